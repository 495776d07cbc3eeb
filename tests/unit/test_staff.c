// SPDX-License-Identifier: BSD-2-Clause
/* The staff directory: loading the example, lookups, the version hash, every rejection, and
 * the attribution rule including its NSS path (uid 0 is "root" on every Debian host). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "staff.h"
#include "test.h"

#define UNSET	 STAFF_UID_UNSET
#define NO_SUCH	 3999999999u /* a uid no test host has */
#define ERR_SIZE 512

static char dir[] = "/tmp/custos-staff.XXXXXX";
static char path[64];
static char example[512];
static char err[ERR_SIZE];

/* Write len bytes to path; false on failure. */
static bool put(const char *data, size_t len)
{
	FILE *f = fopen(path, "w");
	bool ok = f && fwrite(data, 1, len, f) == len;

	if (f && fclose(f))
		ok = false;
	return ok;
}

static struct staff *load_str(const char *json)
{
	if (!put(json, strlen(json)))
		return NULL;
	return staff__load(path, err, sizeof(err));
}

static bool slurp(const char *p, char *buf, size_t cap, size_t *len)
{
	FILE *f = fopen(p, "r");

	if (!f)
		return false;
	*len = fread(buf, 1, cap, f);
	fclose(f);
	return *len > 0 && *len < cap;
}

/* json must be refused with EINVAL and a one-line reason "path: <expect>". */
static bool refused(const char *json, const char *expect)
{
	char want[ERR_SIZE];
	struct staff *s;

	errno = 0;
	s = load_str(json);
	snprintf(want, sizeof(want), "%s: %s", path, expect);
	if (s || errno != EINVAL || strcmp(err, want)) {
		fprintf(stderr, "  got errno %d, \"%s\"\n  want \"%s\"\n", errno, err, want);
		staff__free(s);
		return false;
	}
	return true;
}

/* The same, when only part of the reason is fixed (jansson's wording). */
static bool refused_with(const char *json, const char *part)
{
	struct staff *s;

	errno = 0;
	s = load_str(json);
	if (s || errno != EINVAL || !strstr(err, part) || strchr(err, '\n')) {
		fprintf(stderr, "  got errno %d, \"%s\"\n  want \"...%s...\"\n", errno, err, part);
		staff__free(s);
		return false;
	}
	return true;
}

static struct staff *load_example(void)
{
	struct staff *s = staff__load(example, err, sizeof(err));

	if (!s)
		fprintf(stderr, "  %s\n", err);
	return s;
}

/* What staff__resolve puts in login for uid when the directory would give dir_login. */
static const char *nss_or(uint32_t uid, const char *dir_login)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? pw->pw_name : dir_login;
}

TEST(example_loads)
{
	struct staff *s = load_example();
	const struct staff_person *p;

	ASSERT_TRUE(s != NULL);
	ASSERT_STREQ(err, "");
	ASSERT_EQ(staff__count(s), 3);
	ASSERT_EQ(staff__service_count(s), 2);
	p = staff__by_uid(s, 1001);
	ASSERT_TRUE(p != NULL);
	ASSERT_STREQ(p->id, "e1001");
	ASSERT_STREQ(p->name, "Alice Martin");
	ASSERT_STREQ(p->team, "storage-ops");
	ASSERT_STREQ(p->role, "sre");
	ASSERT_STREQ(p->email, "alice@example.org");
	ASSERT_EQ(p->left, 0);
	p = staff__by_login(s, "zoe");
	ASSERT_TRUE(p != NULL);
	ASSERT_STREQ(p->name, "Zo\xc3\xab \xc3\x98"
			      "deg\xc3\xa5rd");
	ASSERT_TRUE(p->team == NULL && p->role == NULL && p->email == NULL);
	staff__free(s);
	return true;
}

TEST(lookups_by_uid_and_login)
{
	struct staff *s = load_example();

	ASSERT_TRUE(s != NULL);
	ASSERT_STREQ(staff__by_login(s, "alice")->id, "e1001");
	ASSERT_STREQ(staff__by_login(s, "amartin")->id, "e1001");
	ASSERT_STREQ(staff__by_uid(s, 1002)->id, "e1002");
	ASSERT_EQ(staff__by_uid(s, 1002)->left, 1);
	/* Exact match: logins are case-sensitive, as for the kernel and NSS. */
	ASSERT_TRUE(staff__by_login(s, "Alice") == NULL);
	ASSERT_TRUE(staff__by_uid(s, 9999) == NULL);
	ASSERT_TRUE(staff__by_login(s, "nobody") == NULL);
	/* People and services are separate kinds of answer. */
	ASSERT_TRUE(staff__by_uid(s, 34) == NULL);
	ASSERT_TRUE(staff__by_login(s, "backup") == NULL);
	ASSERT_TRUE(staff__service_by_uid(s, 1001) == NULL);
	ASSERT_TRUE(staff__service_by_login(s, "alice") == NULL);
	ASSERT_STREQ(staff__service_by_uid(s, 34), "backup");
	ASSERT_STREQ(staff__service_by_login(s, "backup"), "backup");
	ASSERT_STREQ(staff__service_by_uid(s, 2002), "etl");
	ASSERT_TRUE(staff__service_by_login(s, "etl") == NULL);
	ASSERT_STREQ(staff__service_owner(s, "backup")->id, "e1001");
	ASSERT_TRUE(staff__service_owner(s, "etl") == NULL);
	ASSERT_TRUE(staff__service_owner(s, "nope") == NULL);
	staff__free(s);
	return true;
}

TEST(version_is_the_sha256_of_the_bytes)
{
	char buf[4096], hex[65];
	uint8_t md[32];
	struct staff *a = load_example(), *b = load_example();
	size_t len;

	ASSERT_TRUE(a != NULL && b != NULL);
	ASSERT_TRUE(slurp(example, buf, sizeof(buf), &len));
	ASSERT_TRUE(EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL));
	ASSERT_TRUE(!memcmp(staff__version(a), md, 32));
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	ASSERT_STREQ(staff__version_hex(a), hex);
	ASSERT_STREQ(staff__version_hex(b), hex);
	staff__free(a);
	staff__free(b);
	return true;
}

TEST(version_changes_with_one_byte)
{
	char buf[4096], before[65];
	struct staff *s = load_example();
	char *sp;
	size_t len;

	ASSERT_TRUE(s != NULL);
	snprintf(before, sizeof(before), "%s", staff__version_hex(s));
	staff__free(s);
	/* One space becomes a tab: the same directory, another file, another version. */
	ASSERT_TRUE(slurp(example, buf, sizeof(buf), &len));
	sp = memchr(buf, ' ', len);
	ASSERT_TRUE(sp != NULL);
	*sp = '\t';
	ASSERT_TRUE(put(buf, len));
	s = staff__load(path, err, sizeof(err));
	ASSERT_TRUE(s != NULL);
	ASSERT_EQ(staff__count(s), 3);
	ASSERT_EQ(strlen(staff__version_hex(s)), 64);
	ASSERT_TRUE(strcmp(staff__version_hex(s), before) != 0);
	staff__free(s);
	return true;
}

TEST(unknown_keys_are_errors)
{
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"id\":\"e1\",\"name\":\"A\","
			    "\"status\":\"active\",\"uids\":[5],\"statuss\":\"left\"}]}",
			    "staff[0]: unknown key \"statuss\""));
	ASSERT_TRUE(refused("{\"version\":1,\"services\":[{\"name\":\"b\",\"uids\":[5],"
			    "\"onwer\":\"e1\"}]}",
			    "services[0]: unknown key \"onwer\""));
	ASSERT_TRUE(refused("{\"version\":1,\"stuff\":[]}", "unknown key \"stuff\""));
	return true;
}

TEST(duplicate_uid_across_entries)
{
	ASSERT_TRUE(
		refused("{\"version\":1,\"staff\":["
			"{\"id\":\"e1001\",\"name\":\"A\",\"status\":\"active\",\"uids\":[1001]},"
			"{\"id\":\"e2\",\"name\":\"B\",\"status\":\"active\",\"uids\":[7]},"
			"{\"id\":\"e3\",\"name\":\"C\",\"status\":\"active\",\"uids\":[8]},"
			"{\"id\":\"e4\",\"name\":\"D\",\"status\":\"left\",\"uids\":[1001]}]}",
			"staff[3].uids[0]: uid 1001 already belongs to e1001"));
	/* A service may not take a person's uid, nor another service's. */
	ASSERT_TRUE(refused("{\"version\":1,\"services\":[{\"name\":\"s\",\"uids\":[5]}],"
			    "\"staff\":[{\"id\":\"e1\",\"name\":\"A\",\"status\":\"active\","
			    "\"uids\":[5]}]}",
			    "services[0].uids[0]: uid 5 already belongs to e1"));
	ASSERT_TRUE(refused("{\"version\":1,\"services\":[{\"name\":\"s\",\"uids\":[5]},"
			    "{\"name\":\"t\",\"uids\":[6,5]}]}",
			    "services[1].uids[1]: uid 5 already belongs to service s"));
	ASSERT_TRUE(refused("{\"version\":1,\"services\":[{\"name\":\"s\",\"uids\":[5,5]}]}",
			    "services[0].uids[1]: uid 5 is listed twice"));
	return true;
}

TEST(duplicate_login)
{
	ASSERT_TRUE(
		refused("{\"version\":1,\"staff\":["
			"{\"id\":\"e1\",\"name\":\"A\",\"status\":\"active\",\"logins\":[\"a\"]},"
			"{\"id\":\"e2\",\"name\":\"B\",\"status\":\"active\","
			"\"logins\":[\"b\",\"a\"]}]}",
			"staff[1].logins[1]: login \"a\" already belongs to e1"));
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"id\":\"e1\",\"name\":\"A\","
			    "\"status\":\"active\",\"logins\":[\"a\"]}],"
			    "\"services\":[{\"name\":\"s\",\"logins\":[\"a\"]}]}",
			    "services[0].logins[0]: login \"a\" already belongs to e1"));
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"id\":\"e1\",\"name\":\"A\","
			    "\"status\":\"active\",\"logins\":[\"a\",\"a\"]}]}",
			    "staff[0].logins[1]: login \"a\" is listed twice"));
	return true;
}

TEST(duplicate_id_and_service_name)
{
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":["
			    "{\"id\":\"e1\",\"name\":\"A\",\"status\":\"active\",\"uids\":[1]},"
			    "{\"id\":\"e1\",\"name\":\"B\",\"status\":\"active\",\"uids\":[2]}]}",
			    "staff[1].id: \"e1\" is already the id of staff[0]"));
	ASSERT_TRUE(refused("{\"version\":1,\"services\":[{\"name\":\"s\",\"uids\":[1]},"
			    "{\"name\":\"s\",\"uids\":[2]}]}",
			    "services[1].name: \"s\" is already the name of services[0]"));
	return true;
}

TEST(required_fields)
{
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"id\":\"e1\",\"name\":\"A\","
			    "\"uids\":[1]}]}",
			    "staff[0]: missing \"status\""));
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"name\":\"A\",\"status\":\"active\","
			    "\"uids\":[1]}]}",
			    "staff[0]: missing \"id\""));
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"id\":\"e1\",\"status\":\"active\","
			    "\"uids\":[1]}]}",
			    "staff[0]: missing \"name\""));
	ASSERT_TRUE(refused("{\"version\":1,\"services\":[{\"uids\":[1]}]}",
			    "services[0]: missing \"name\""));
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"id\":\"e1\",\"name\":\"A\","
			    "\"status\":\"active\",\"logins\":[],\"uids\":[]}]}",
			    "staff[0]: no logins and no uids: nothing would match it"));
	ASSERT_TRUE(refused("{\"version\":1,\"services\":[{\"name\":\"s\"}]}",
			    "services[0]: no logins and no uids: nothing would match it"));
	return true;
}

TEST(bad_status)
{
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"id\":\"e1\",\"name\":\"A\","
			    "\"status\":\"Active\",\"uids\":[1]}]}",
			    "staff[0].status: \"Active\" is neither \"active\" nor \"left\""));
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"id\":\"e1\",\"name\":\"A\","
			    "\"status\":1,\"uids\":[1]}]}",
			    "staff[0].status: not a string"));
	return true;
}

TEST(uid_range)
{
	ASSERT_TRUE(refused("{\"version\":1,\"services\":[{\"name\":\"s\",\"uids\":[4294967295]}]}",
			    "services[0].uids[0]: 4294967295 is the unset uid (-1), not a uid"));
	ASSERT_TRUE(refused("{\"version\":1,\"services\":[{\"name\":\"s\",\"uids\":[-1]}]}",
			    "services[0].uids[0]: uid -1 is out of range 0..4294967294"));
	ASSERT_TRUE(refused("{\"version\":1,\"services\":[{\"name\":\"s\",\"uids\":[4294967296]}]}",
			    "services[0].uids[0]: uid 4294967296 is out of range 0..4294967294"));
	ASSERT_TRUE(refused("{\"version\":1,\"services\":[{\"name\":\"s\",\"uids\":[1001.0]}]}",
			    "services[0].uids[0]: not an integer"));
	ASSERT_TRUE(refused("{\"version\":1,\"services\":[{\"name\":\"s\",\"uids\":[\"1001\"]}]}",
			    "services[0].uids[0]: not an integer"));
	return true;
}

TEST(uid_limits_are_accepted)
{
	struct staff *s = load_str("{\"version\":1,\"services\":[{\"name\":\"s\","
				   "\"uids\":[0,4294967294]}]}");

	ASSERT_TRUE(s != NULL);
	ASSERT_STREQ(staff__service_by_uid(s, 0), "s");
	ASSERT_STREQ(staff__service_by_uid(s, 4294967294u), "s");
	ASSERT_TRUE(staff__service_by_uid(s, UNSET) == NULL);
	staff__free(s);
	return true;
}

TEST(arrays_must_be_arrays)
{
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"id\":\"e1\",\"name\":\"A\","
			    "\"status\":\"active\",\"logins\":\"alice\"}]}",
			    "staff[0].logins: not an array"));
	ASSERT_TRUE(refused("{\"version\":1,\"services\":[{\"name\":\"s\",\"uids\":5}]}",
			    "services[0].uids: not an array"));
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":{}}", "staff: not an array"));
	ASSERT_TRUE(refused("{\"version\":1,\"services\":[5]}", "services[0]: not an object"));
	ASSERT_TRUE(refused("[1]", "not a JSON object"));
	return true;
}

TEST(owner_must_be_a_staff_id)
{
	struct staff *s;

	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"id\":\"e1\",\"name\":\"A\","
			    "\"status\":\"active\",\"uids\":[1]}],"
			    "\"services\":[{\"name\":\"s\",\"uids\":[2],\"owner\":\"e9\"}]}",
			    "services[0].owner: \"e9\" is not a staff id"));
	/* Not a service name either; and the order of the arrays in the file does not matter. */
	ASSERT_TRUE(refused("{\"version\":1,\"services\":[{\"name\":\"s\",\"uids\":[2]},"
			    "{\"name\":\"t\",\"uids\":[3],\"owner\":\"s\"}]}",
			    "services[1].owner: \"s\" is not a staff id"));
	s = load_str(
		"{\"version\":1,\"services\":[{\"name\":\"s\",\"uids\":[2],\"owner\":\"e1\"}],"
		"\"staff\":[{\"id\":\"e1\",\"name\":\"A\",\"status\":\"left\",\"uids\":[1]}]}");
	ASSERT_TRUE(s != NULL);
	ASSERT_STREQ(staff__service_owner(s, "s")->name, "A");
	staff__free(s);
	return true;
}

TEST(invalid_json_gives_the_line)
{
	ASSERT_TRUE(
		refused_with("{\n  \"version\": 1,\n  \"staff\": [\n    { \"id\": \"e1\" \"name\":"
			     " \"A\" }\n  ]\n}\n",
			     ": line 4, column "));
	ASSERT_TRUE(refused_with("{\"version\":1,\"staff\":[]}\ngarbage\n", ": line 2, column "));
	return true;
}

TEST(duplicate_json_keys)
{
	ASSERT_TRUE(refused_with("{\"version\":1,\n\"staff\":[{\"id\":\"e1\",\"id\":\"e2\","
				 "\"name\":\"A\",\"status\":\"active\",\"uids\":[1]}]}",
				 ": line 2, column "));
	ASSERT_TRUE(refused_with("{\"version\":1,\"version\":1}", "duplicate object key"));
	return true;
}

TEST(text_rules)
{
	char json[1024], name[300];

	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"id\":\"e1\",\"name\":\"Al\\u0007ice\","
			    "\"status\":\"active\",\"uids\":[1]}]}",
			    "staff[0].name: control character U+0007"));
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"id\":\"e1\",\"name\":\"A\","
			    "\"status\":\"active\",\"logins\":[\"a\\nb\"]}]}",
			    "staff[0].logins[0]: control character U+000A"));
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"id\":\"e1\",\"name\":\"A\","
			    "\"team\":\"x\\u0085\",\"status\":\"active\",\"uids\":[1]}]}",
			    "staff[0].team: control character U+0085"));
	/* A raw control character is already invalid JSON. */
	ASSERT_TRUE(refused_with("{\"version\":1,\"services\":[{\"name\":\"a\tb\",\"uids\":[1]}]}",
				 "control character"));
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"id\":\"\",\"name\":\"A\","
			    "\"status\":\"active\",\"uids\":[1]}]}",
			    "staff[0].id: empty string"));
	/* Optional means omitted: null is a value of the wrong type. */
	ASSERT_TRUE(refused("{\"version\":1,\"staff\":[{\"id\":\"e1\",\"name\":\"A\","
			    "\"email\":null,\"status\":\"active\",\"uids\":[1]}]}",
			    "staff[0].email: not a string"));
	memset(name, 'x', 256);
	name[256] = '\0';
	snprintf(json, sizeof(json),
		 "{\"version\":1,\"services\":[{\"name\":\"%s\",\"uids\":[1]}]}", name);
	ASSERT_TRUE(refused(json, "services[0].name: longer than 255 bytes"));
	name[255] = '\0';
	snprintf(json, sizeof(json),
		 "{\"version\":1,\"services\":[{\"name\":\"%s\",\"uids\":[1]}]}", name);
	{
		struct staff *s = load_str(json);

		ASSERT_TRUE(s != NULL);
		ASSERT_EQ(strlen(staff__service_by_uid(s, 1)), 255);
		staff__free(s);
	}
	return true;
}

TEST(empty_file)
{
	ASSERT_TRUE(refused("", "empty file"));
	ASSERT_TRUE(refused_with(" \n", "line "));
	return true;
}

TEST(version_is_checked_first)
{
	ASSERT_TRUE(refused("{\"staff\":[]}", "missing \"version\""));
	ASSERT_TRUE(refused("{\"version\":\"1\"}", "version: not an integer"));
	/* A later format's new keys are not what is wrong with it. */
	ASSERT_TRUE(refused("{\"version\":2,\"groups\":[]}",
			    "version: unsupported version 2, expected 1"));
	return true;
}

TEST(empty_directory_loads)
{
	struct staff *s = load_str("{\"version\":1}");

	ASSERT_TRUE(s != NULL);
	ASSERT_EQ(staff__count(s), 0);
	ASSERT_EQ(staff__service_count(s), 0);
	ASSERT_TRUE(staff__by_uid(s, 0) == NULL);
	ASSERT_TRUE(staff__by_login(s, "root") == NULL);
	staff__free(s);
	return true;
}

TEST(errors_are_one_bounded_line)
{
	char small[16];
	struct staff *s;

	/* A key with a newline in it (escaped in JSON) must not split the message. */
	ASSERT_TRUE(refused("{\"version\":1,\"a\\nb\":1}", "unknown key \"a?b\""));
	ASSERT_TRUE(put("{\"version\":1,\"x\":1}", 19));
	memset(small, 'z', sizeof(small));
	s = staff__load(path, small, sizeof(small));
	ASSERT_TRUE(s == NULL && errno == EINVAL);
	ASSERT_EQ(strlen(small), sizeof(small) - 1);
	ASSERT_TRUE(staff__load(path, NULL, 0) == NULL && errno == EINVAL);
	return true;
}

TEST(missing_file)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/absent.json", dir);
	errno = 0;
	ASSERT_TRUE(staff__load(p, err, sizeof(err)) == NULL);
	ASSERT_EQ(errno, ENOENT);
	ASSERT_TRUE(strstr(err, "absent.json: No such file or directory") != NULL);
	ASSERT_TRUE(staff__load(dir, err, sizeof(err)) == NULL);
	ASSERT_EQ(errno, EISDIR);
	staff__free(NULL);
	return true;
}

TEST(resolve_loginuid_survives_sudo)
{
	struct staff *s = load_example();
	struct staff_attribution a;

	ASSERT_TRUE(s != NULL);
	staff__resolve(s, 1001, 0, &a);
	ASSERT_EQ(a.method, STAFF_LOGINUID);
	ASSERT_STREQ(a.person->id, "e1001");
	ASSERT_STREQ(a.login, nss_or(1001, "alice"));
	ASSERT_STREQ(a.service, "");
	/* A loginuid that is a service account. */
	staff__resolve(s, 34, 1001, &a);
	ASSERT_EQ(a.method, STAFF_SERVICE);
	ASSERT_STREQ(a.service, "backup");
	ASSERT_TRUE(a.person == NULL);
	staff__free(s);
	return true;
}

TEST(resolve_by_uid)
{
	struct staff *s = load_example();
	struct staff_attribution a;

	ASSERT_TRUE(s != NULL);
	staff__resolve(s, UNSET, 1001, &a);
	ASSERT_EQ(a.method, STAFF_UID);
	ASSERT_STREQ(a.person->id, "e1001");
	/* A loginuid that owns nothing falls through to the uid. */
	staff__resolve(s, NO_SUCH, 1001, &a);
	ASSERT_EQ(a.method, STAFF_UID);
	ASSERT_STREQ(a.person->id, "e1001");
	ASSERT_STREQ(a.login, nss_or(1001, "alice"));
	staff__free(s);
	return true;
}

TEST(resolve_service)
{
	struct staff *s = load_example();
	struct staff_attribution a;

	ASSERT_TRUE(s != NULL);
	staff__resolve(s, UNSET, 34, &a);
	ASSERT_EQ(a.method, STAFF_SERVICE);
	ASSERT_STREQ(a.service, "backup");
	ASSERT_STREQ(a.login, nss_or(34, "backup"));
	ASSERT_TRUE(a.person == NULL);
	staff__resolve(s, UNSET, 2001, &a);
	ASSERT_EQ(a.method, STAFF_SERVICE);
	ASSERT_STREQ(a.service, "etl");
	staff__free(s);
	return true;
}

TEST(resolve_unattributed)
{
	struct staff *s = load_example();
	struct staff_attribution a;

	ASSERT_TRUE(s != NULL);
	staff__resolve(s, UNSET, NO_SUCH, &a);
	ASSERT_EQ(a.method, STAFF_UNATTRIBUTED);
	ASSERT_TRUE(a.person == NULL);
	ASSERT_STREQ(a.login, "");
	/* Root is nobody unless the directory says so. */
	staff__resolve(s, UNSET, 0, &a);
	ASSERT_EQ(a.method, STAFF_UNATTRIBUTED);
	ASSERT_STREQ(a.login, "root");
	/* The login of the session is kept over the account's. */
	staff__resolve(s, 0, NO_SUCH, &a);
	ASSERT_EQ(a.method, STAFF_UNATTRIBUTED);
	ASSERT_STREQ(a.login, "root");
	staff__free(s);
	return true;
}

TEST(resolve_through_nss_login)
{
	struct staff *s = load_str("{\"version\":1,\"services\":[{\"name\":\"admin\","
				   "\"logins\":[\"root\"]}]}");
	struct staff_attribution a;

	ASSERT_TRUE(s != NULL);
	staff__resolve(s, UNSET, 0, &a);
	ASSERT_EQ(a.method, STAFF_SERVICE);
	ASSERT_STREQ(a.service, "admin");
	ASSERT_STREQ(a.login, "root");
	/* Again, from the cache. */
	staff__resolve(s, UNSET, 0, &a);
	ASSERT_EQ(a.method, STAFF_SERVICE);
	ASSERT_STREQ(a.service, "admin");
	staff__free(s);

	s = load_str("{\"version\":1,\"staff\":[{\"id\":\"e7\",\"name\":\"Root Person\","
		     "\"status\":\"active\",\"logins\":[\"root\"]}]}");
	ASSERT_TRUE(s != NULL);
	staff__resolve(s, 0, NO_SUCH, &a);
	ASSERT_EQ(a.method, STAFF_LOGINUID);
	ASSERT_STREQ(a.person->id, "e7");
	ASSERT_STREQ(a.login, "root");
	staff__free(s);
	return true;
}

TEST(a_listed_uid_beats_its_nss_login)
{
	struct staff *s = load_str("{\"version\":1,\"staff\":[{\"id\":\"e7\",\"name\":\"R\","
				   "\"status\":\"active\",\"logins\":[\"root\"]}],"
				   "\"services\":[{\"name\":\"uid0\",\"uids\":[0]}]}");
	struct staff_attribution a;

	ASSERT_TRUE(s != NULL);
	staff__resolve(s, UNSET, 0, &a);
	ASSERT_EQ(a.method, STAFF_SERVICE);
	ASSERT_STREQ(a.service, "uid0");
	ASSERT_STREQ(a.login, "root");
	staff__free(s);
	return true;
}

TEST(resolve_person_who_left)
{
	struct staff *s = load_example();
	struct staff_attribution a;

	ASSERT_TRUE(s != NULL);
	staff__resolve(s, 1002, 1002, &a);
	ASSERT_EQ(a.method, STAFF_LOGINUID);
	ASSERT_STREQ(a.person->name, "Bob Stone");
	ASSERT_EQ(a.person->left, 1);
	staff__free(s);
	return true;
}

TEST(resolve_without_directory)
{
	struct staff_attribution a;

	staff__resolve(NULL, UNSET, 0, &a);
	ASSERT_EQ(a.method, STAFF_UNATTRIBUTED);
	ASSERT_TRUE(a.person == NULL);
	ASSERT_STREQ(a.login, "root");
	ASSERT_STREQ(a.service, "");
	staff__resolve(NULL, 0, NO_SUCH, &a);
	ASSERT_EQ(a.method, STAFF_UNATTRIBUTED);
	ASSERT_STREQ(a.login, "root");
	staff__resolve(NULL, UNSET, NO_SUCH, &a);
	ASSERT_EQ(a.method, STAFF_UNATTRIBUTED);
	ASSERT_STREQ(a.login, "");
	return true;
}

TEST(method_names)
{
	ASSERT_STREQ(staff__method_name(STAFF_LOGINUID), "loginuid");
	ASSERT_STREQ(staff__method_name(STAFF_UID), "uid");
	ASSERT_STREQ(staff__method_name(STAFF_SERVICE), "service");
	ASSERT_STREQ(staff__method_name(STAFF_UNATTRIBUTED), "unattributed");
	ASSERT_STREQ(staff__method_name(0), "unknown");
	return true;
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "failed to remove %s\n", dir);
}

/* The example sits next to this file; tests/run.sh runs from the top of the tree. */
__attribute__((constructor)) static void setup(void)
{
	const char *slash = strrchr(__FILE__, '/');
	int n = slash ? (int)(slash - __FILE__ + 1) : 0;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/staff.json", dir);
	snprintf(example, sizeof(example), "%.*sstaff-example.json", n, __FILE__);
	atexit(teardown);
}

RUN_TESTS(T(example_loads), T(lookups_by_uid_and_login), T(version_is_the_sha256_of_the_bytes),
	  T(version_changes_with_one_byte), T(unknown_keys_are_errors),
	  T(duplicate_uid_across_entries), T(duplicate_login), T(duplicate_id_and_service_name),
	  T(required_fields), T(bad_status), T(uid_range), T(uid_limits_are_accepted),
	  T(arrays_must_be_arrays), T(owner_must_be_a_staff_id), T(invalid_json_gives_the_line),
	  T(duplicate_json_keys), T(text_rules), T(empty_file), T(version_is_checked_first),
	  T(empty_directory_loads), T(errors_are_one_bounded_line), T(missing_file),
	  T(resolve_loginuid_survives_sudo), T(resolve_by_uid), T(resolve_service),
	  T(resolve_unattributed), T(resolve_through_nss_login),
	  T(a_listed_uid_beats_its_nss_login), T(resolve_person_who_left),
	  T(resolve_without_directory), T(method_names))
