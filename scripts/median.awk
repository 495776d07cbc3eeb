# The median of a space-separated list of numbers, for make bench's tables
# (scripts/bench.sh, scripts/benchfleet.sh put it before their programs).
function median(list,   k, a, i, j, t) {
	k = split(list, a, " ")
	for (i = 1; i <= k; i++)
		for (j = i + 1; j <= k; j++)
			if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
