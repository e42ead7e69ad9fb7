/* schema_sql.h - the database schema (schema/spans.sql) embedded in the
 * binary, so `beyla analyze` needs no file at run time. */
#ifndef BEYLA_SCHEMA_SQL_H
#define BEYLA_SCHEMA_SQL_H

#define BZ_SCHEMA_VERSION 8 /* PRAGMA user_version written by the schema */
/* Statements after this line run once all rows are inserted. */
#define BZ_SCHEMA_AFTER_LOAD "\n-- @after-load\n" /* a line of its own */

/* The whole of schema/spans.sql, made at build time into $(BUILD)/gen/schema_sql.c
 * (scripts/embed_text.sh): the .sql file is the one source. */
extern const char bz_schema_sql[];

#endif
