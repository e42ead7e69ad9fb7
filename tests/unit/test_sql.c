/* test_sql.c - SQL text as the database parsers see it: the record-time
 * masking of literals (record/redact_sql.c), whole and cut into pieces at
 * every byte, and the analyzer's db.query.text, operation and table
 * (analyze/proto/sql_text.c), on masked and unmasked statements. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/proto/sql_text.h"
#include "record/redact_wire.h"

/* s masked in one piece; the result in out (NUL terminated). */
static void mask_whole(const char *s, enum rd_sql_dialect d, char *out)
{
	struct rd_sql st;
	size_t n = strlen(s);

	rd_sql_init(&st, d);
	memcpy(out, s, n + 1);
	rd_sql_mask(&st, (uint8_t *)out, n);
}

/* Masked whole is want, and so it is cut in two at every byte. */
static void check_mask(const char *s, enum rd_sql_dialect d, const char *want)
{
	char out[512];
	size_t n = strlen(s);

	mask_whole(s, d, out);
	assert_string_equal(out, want);
	for (size_t cut = 0; cut <= n; cut++) {
		struct rd_sql st;
		rd_sql_init(&st, d);
		memcpy(out, s, n + 1);
		rd_sql_mask(&st, (uint8_t *)out, cut);
		rd_sql_mask(&st, (uint8_t *)out + cut, n - cut);
		if (strcmp(out, want))
			fail_msg("cut at %zu: \"%s\", want \"%s\"", cut, out, want);
	}
}

static void test_mask_strings_and_numbers(void **state)
{
	(void)state;
	check_mask("INSERT INTO users (name, pw) VALUES ('bob', 's3cr3t')", RD_SQL_PG,
		   "INSERT INTO users (name, pw) VALUES ('***', '******')");
	check_mask("SELECT * FROM t1 WHERE id = 42 AND x > -3.5e10", RD_SQL_PG,
		   "SELECT * FROM t1 WHERE id = 00 AND x > -000000");
	check_mask("SELECT 'it''s', E'a\\'b', 'c\\' FROM t", RD_SQL_PG,
		   "SELECT '**''*', E'****', '**' FROM t");
	check_mask("SELECT $1, $2::int FROM t WHERE a = $tag$se$cret$tag$ AND b = $$x$$", RD_SQL_PG,
		   "SELECT $1, $2::int FROM t WHERE a = $tag$**$****$tag$ AND b = $$*$$");
	check_mask("SELECT \"col 1\" FROM \"T2\" -- note 123\n/* key 9 */ WHERE c = 0x1F", RD_SQL_PG,
		   "SELECT \"col 1\" FROM \"T2\" --*********\n/*********/ WHERE c = 0000");
	/* MySQL: "..." is a string, backslashes escape, # comments, `ident` */
	check_mask("SELECT `a1` FROM t WHERE p = \"pa\\\"ss\" AND q = 'x' # 77\nLIMIT 10", RD_SQL_MYSQL,
		   "SELECT `a1` FROM t WHERE p = \"******\" AND q = '*' #***\nLIMIT 00");
}

static void check_sanitize(const char *s, enum bz_sql_dialect d, const char *want)
{
	char out[512];
	size_t n = bz_sql_sanitize(s, strlen(s), d, out, sizeof(out));
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void test_sanitize(void **state)
{
	(void)state;
	check_sanitize("  INSERT INTO users (name, pw)\n\tVALUES ('bob', 's3cr3t')  ", BZ_SQL_PG,
		       "INSERT INTO users (name, pw) VALUES (?, ?)");
	/* the same statement as the recorder masked it: the same text */
	check_sanitize("INSERT INTO users (name, pw) VALUES ('***', '******')", BZ_SQL_PG,
		       "INSERT INTO users (name, pw) VALUES (?, ?)");
	check_sanitize("SELECT * FROM t1 WHERE id = 00 AND x > -0000000", BZ_SQL_PG,
		       "SELECT * FROM t1 WHERE id = ? AND x > -?");
	check_sanitize("SELECT E'a\\'b', $tag$x$y$tag$, $1, \"Col\" FROM t -- c\nWHERE /* 1 */ a = 1.5e+3", BZ_SQL_PG,
		       "SELECT ?, ?, $1, \"Col\" FROM t WHERE a = ?");
	check_sanitize("SELECT \"pw\" FROM t WHERE u = \"x\\\"y\" # c\n AND v IN (1, 2)", BZ_SQL_MYSQL,
		       "SELECT ? FROM t WHERE u = ? AND v IN (?, ?)");
	/* a literal the text ends inside (cut by the snap length) */
	check_sanitize("SELECT * FROM t WHERE a = 'abc", BZ_SQL_PG, "SELECT * FROM t WHERE a = ?");
	/* cut to the buffer, never in a UTF-8 sequence */
	{
		char out[8];
		bz_sql_sanitize("SELECT \xc3\xa9\xc3\xa9", 11, BZ_SQL_PG, out, sizeof(out));
		assert_string_equal(out, "SELECT");
		char out9[9];
		bz_sql_sanitize("SELECT\xc3\xa9", 8, BZ_SQL_PG, out, sizeof(out));
		assert_string_equal(out, "SELECT");
		bz_sql_sanitize("SELECT\xc3\xa9", 8, BZ_SQL_PG, out9, sizeof(out9));
		assert_string_equal(out9, "SELECT\xc3\xa9");
	}
}

static void check_summary(const char *q, const char *op, const char *table, unsigned nst)
{
	char o[32], t[64];
	uint32_t n = 99;
	bz_sql_summary(q, o, sizeof(o), t, sizeof(t), &n);
	assert_string_equal(o, op);
	assert_string_equal(t, table);
	assert_int_equal(n, nst);
}

static void test_summary(void **state)
{
	(void)state;
	check_summary("SELECT * FROM users WHERE id = ?", "SELECT", "users", 1);
	check_summary("select a, b from public.orders o where o.x = ? order by a", "SELECT", "public.orders", 1);
	check_summary("SELECT * FROM a JOIN b ON a.id = b.id", "SELECT", "", 1);
	check_summary("SELECT * FROM a, b", "SELECT", "", 1);
	check_summary("SELECT * FROM (SELECT ? ) s", "SELECT", "", 1);
	check_summary("SELECT ?", "SELECT", "", 1);
	check_summary("SELECT x FROM t WHERE y IN (SELECT z FROM u)", "SELECT", "t", 1);
	check_summary("insert into \"Items\" (a) values (?)", "INSERT", "Items", 1);
	check_summary("INSERT IGNORE INTO t VALUES (?)", "INSERT", "t", 1);
	check_summary("UPDATE accounts SET v = ? WHERE id = ?", "UPDATE", "accounts", 1);
	check_summary("DELETE FROM s.t WHERE id = ?", "DELETE", "s.t", 1);
	check_summary("CREATE TABLE IF NOT EXISTS kv (k text)", "CREATE", "kv", 1);
	check_summary("DROP TABLE kv", "DROP", "kv", 1);
	check_summary("CREATE INDEX i ON kv (k)", "CREATE", "", 1);
	check_summary("TRUNCATE TABLE logs", "TRUNCATE", "logs", 1);
	check_summary("COPY pgbench_accounts FROM stdin", "COPY", "pgbench_accounts", 1);
	check_summary("WITH x AS (SELECT ? FROM a) SELECT * FROM x", "SELECT", "x", 1);
	check_summary("BEGIN", "BEGIN", "", 1);
	check_summary("BEGIN; SELECT ?; COMMIT;", "BATCH", "", 3);
	check_summary("SELECT ?; SELECT * FROM w", "BATCH SELECT", "", 2);
	check_summary("INSERT INTO a VALUES (?); INSERT INTO a VALUES (?);", "BATCH INSERT", "a", 2);
	check_summary("SELECT ? ; ;", "SELECT", "", 1);
	check_summary("", "", "", 0);
	check_summary("(SELECT 1)", "", "", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_strings_and_numbers),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
