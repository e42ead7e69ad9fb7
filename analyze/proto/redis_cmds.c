/* redis_cmds.c - Redis command names and where their keys are
 * (redis_cmds.h).  From the command reference at redis.io/commands. */
#include <string.h>
#include <strings.h>

#include "redis_cmds.h"

struct cmd {
	const char *name;
	enum bz_redis_class cls;
};

/* Commands whose first argument is a key are listed so that a detector
 * knows their names; any command not listed is taken as one of them. */
static const struct cmd cmds[] = {
	/* first argument a key */
	{ "APPEND", BZ_REDIS_KEY }, { "BITCOUNT", BZ_REDIS_KEY }, { "BITFIELD", BZ_REDIS_KEY },
	{ "BITPOS", BZ_REDIS_KEY }, { "BLMOVE", BZ_REDIS_KEY }, { "BLPOP", BZ_REDIS_KEY },
	{ "BRPOP", BZ_REDIS_KEY }, { "BRPOPLPUSH", BZ_REDIS_KEY }, { "BZPOPMAX", BZ_REDIS_KEY },
	{ "BZPOPMIN", BZ_REDIS_KEY }, { "COPY", BZ_REDIS_KEY }, { "DECR", BZ_REDIS_KEY },
	{ "DECRBY", BZ_REDIS_KEY }, { "DEL", BZ_REDIS_KEY }, { "DUMP", BZ_REDIS_KEY },
	{ "EXISTS", BZ_REDIS_KEY }, { "EXPIRE", BZ_REDIS_KEY }, { "EXPIREAT", BZ_REDIS_KEY },
	{ "EXPIRETIME", BZ_REDIS_KEY }, { "GEOADD", BZ_REDIS_KEY }, { "GEODIST", BZ_REDIS_KEY },
	{ "GEOHASH", BZ_REDIS_KEY }, { "GEOPOS", BZ_REDIS_KEY }, { "GEORADIUS", BZ_REDIS_KEY },
	{ "GEOSEARCH", BZ_REDIS_KEY }, { "GET", BZ_REDIS_KEY }, { "GETBIT", BZ_REDIS_KEY },
	{ "GETDEL", BZ_REDIS_KEY }, { "GETEX", BZ_REDIS_KEY }, { "GETRANGE", BZ_REDIS_KEY },
	{ "GETSET", BZ_REDIS_KEY }, { "HDEL", BZ_REDIS_KEY }, { "HEXISTS", BZ_REDIS_KEY },
	{ "HGET", BZ_REDIS_KEY }, { "HGETALL", BZ_REDIS_KEY }, { "HINCRBY", BZ_REDIS_KEY },
	{ "HINCRBYFLOAT", BZ_REDIS_KEY }, { "HKEYS", BZ_REDIS_KEY }, { "HLEN", BZ_REDIS_KEY },
	{ "HMGET", BZ_REDIS_KEY }, { "HMSET", BZ_REDIS_KEY }, { "HRANDFIELD", BZ_REDIS_KEY },
	{ "HSCAN", BZ_REDIS_KEY }, { "HSET", BZ_REDIS_KEY }, { "HSETNX", BZ_REDIS_KEY },
	{ "HSTRLEN", BZ_REDIS_KEY }, { "HVALS", BZ_REDIS_KEY }, { "INCR", BZ_REDIS_KEY },
	{ "INCRBY", BZ_REDIS_KEY }, { "INCRBYFLOAT", BZ_REDIS_KEY }, { "KEYS", BZ_REDIS_KEY },
	{ "LINDEX", BZ_REDIS_KEY }, { "LINSERT", BZ_REDIS_KEY }, { "LLEN", BZ_REDIS_KEY },
	{ "LMOVE", BZ_REDIS_KEY }, { "LPOP", BZ_REDIS_KEY }, { "LPOS", BZ_REDIS_KEY },
	{ "LPUSH", BZ_REDIS_KEY }, { "LPUSHX", BZ_REDIS_KEY }, { "LRANGE", BZ_REDIS_KEY },
	{ "LREM", BZ_REDIS_KEY }, { "LSET", BZ_REDIS_KEY }, { "LTRIM", BZ_REDIS_KEY },
	{ "MGET", BZ_REDIS_KEY }, { "MOVE", BZ_REDIS_KEY }, { "MSET", BZ_REDIS_KEY },
	{ "MSETNX", BZ_REDIS_KEY }, { "PERSIST", BZ_REDIS_KEY }, { "PEXPIRE", BZ_REDIS_KEY },
	{ "PEXPIREAT", BZ_REDIS_KEY }, { "PFADD", BZ_REDIS_KEY }, { "PFCOUNT", BZ_REDIS_KEY },
	{ "PFMERGE", BZ_REDIS_KEY }, { "PSETEX", BZ_REDIS_KEY }, { "PTTL", BZ_REDIS_KEY },
	{ "PUBLISH", BZ_REDIS_KEY }, { "PSUBSCRIBE", BZ_REDIS_KEY }, { "PUNSUBSCRIBE", BZ_REDIS_KEY },
	{ "RENAME", BZ_REDIS_KEY }, { "RENAMENX", BZ_REDIS_KEY }, { "RESTORE", BZ_REDIS_KEY },
	{ "RPOP", BZ_REDIS_KEY }, { "RPOPLPUSH", BZ_REDIS_KEY }, { "RPUSH", BZ_REDIS_KEY },
	{ "RPUSHX", BZ_REDIS_KEY }, { "SADD", BZ_REDIS_KEY }, { "SCARD", BZ_REDIS_KEY },
	{ "SDIFF", BZ_REDIS_KEY }, { "SDIFFSTORE", BZ_REDIS_KEY }, { "SET", BZ_REDIS_KEY },
	{ "SETBIT", BZ_REDIS_KEY }, { "SETEX", BZ_REDIS_KEY }, { "SETNX", BZ_REDIS_KEY },
	{ "SETRANGE", BZ_REDIS_KEY }, { "SINTER", BZ_REDIS_KEY }, { "SINTERSTORE", BZ_REDIS_KEY },
	{ "SISMEMBER", BZ_REDIS_KEY }, { "SMEMBERS", BZ_REDIS_KEY }, { "SMISMEMBER", BZ_REDIS_KEY },
	{ "SMOVE", BZ_REDIS_KEY }, { "SORT", BZ_REDIS_KEY }, { "SPOP", BZ_REDIS_KEY },
	{ "SPUBLISH", BZ_REDIS_KEY }, { "SRANDMEMBER", BZ_REDIS_KEY }, { "SREM", BZ_REDIS_KEY },
	{ "SSCAN", BZ_REDIS_KEY }, { "SSUBSCRIBE", BZ_REDIS_KEY }, { "STRLEN", BZ_REDIS_KEY },
	{ "SUBSCRIBE", BZ_REDIS_KEY }, { "SUNION", BZ_REDIS_KEY }, { "SUNIONSTORE", BZ_REDIS_KEY },
	{ "SUNSUBSCRIBE", BZ_REDIS_KEY }, { "TOUCH", BZ_REDIS_KEY }, { "TTL", BZ_REDIS_KEY },
	{ "TYPE", BZ_REDIS_KEY }, { "UNLINK", BZ_REDIS_KEY }, { "UNSUBSCRIBE", BZ_REDIS_KEY },
	{ "WATCH", BZ_REDIS_KEY }, { "XACK", BZ_REDIS_KEY }, { "XADD", BZ_REDIS_KEY },
	{ "XAUTOCLAIM", BZ_REDIS_KEY }, { "XCLAIM", BZ_REDIS_KEY }, { "XDEL", BZ_REDIS_KEY },
	{ "XLEN", BZ_REDIS_KEY }, { "XPENDING", BZ_REDIS_KEY }, { "XRANGE", BZ_REDIS_KEY },
	{ "XREVRANGE", BZ_REDIS_KEY }, { "XTRIM", BZ_REDIS_KEY }, { "ZADD", BZ_REDIS_KEY },
	{ "ZCARD", BZ_REDIS_KEY }, { "ZCOUNT", BZ_REDIS_KEY }, { "ZINCRBY", BZ_REDIS_KEY },
	{ "ZLEXCOUNT", BZ_REDIS_KEY }, { "ZMSCORE", BZ_REDIS_KEY }, { "ZPOPMAX", BZ_REDIS_KEY },
	{ "ZPOPMIN", BZ_REDIS_KEY }, { "ZRANDMEMBER", BZ_REDIS_KEY }, { "ZRANGE", BZ_REDIS_KEY },
	{ "ZRANGEBYLEX", BZ_REDIS_KEY }, { "ZRANGEBYSCORE", BZ_REDIS_KEY }, { "ZRANGESTORE", BZ_REDIS_KEY },
	{ "ZRANK", BZ_REDIS_KEY }, { "ZREM", BZ_REDIS_KEY }, { "ZREMRANGEBYRANK", BZ_REDIS_KEY },
	{ "ZREMRANGEBYSCORE", BZ_REDIS_KEY }, { "ZREVRANGE", BZ_REDIS_KEY }, { "ZREVRANK", BZ_REDIS_KEY },
	{ "ZSCAN", BZ_REDIS_KEY }, { "ZSCORE", BZ_REDIS_KEY },
	/* no key first, or secrets: every argument masked */
	{ "AUTH", BZ_REDIS_NOKEY }, { "HELLO", BZ_REDIS_NOKEY }, { "MIGRATE", BZ_REDIS_NOKEY },
	{ "EVAL", BZ_REDIS_NOKEY }, { "EVALSHA", BZ_REDIS_NOKEY }, { "EVAL_RO", BZ_REDIS_NOKEY },
	{ "EVALSHA_RO", BZ_REDIS_NOKEY }, { "FCALL", BZ_REDIS_NOKEY }, { "FCALL_RO", BZ_REDIS_NOKEY },
	{ "ECHO", BZ_REDIS_NOKEY }, { "PING", BZ_REDIS_NOKEY }, { "INFO", BZ_REDIS_NOKEY },
	{ "DBSIZE", BZ_REDIS_NOKEY }, { "FLUSHALL", BZ_REDIS_NOKEY }, { "FLUSHDB", BZ_REDIS_NOKEY },
	{ "SWAPDB", BZ_REDIS_NOKEY }, { "MULTI", BZ_REDIS_NOKEY }, { "EXEC", BZ_REDIS_NOKEY },
	{ "DISCARD", BZ_REDIS_NOKEY }, { "UNWATCH", BZ_REDIS_NOKEY }, { "MONITOR", BZ_REDIS_NOKEY },
	{ "QUIT", BZ_REDIS_NOKEY }, { "RESET", BZ_REDIS_NOKEY }, { "SCAN", BZ_REDIS_NOKEY },
	{ "RANDOMKEY", BZ_REDIS_NOKEY }, { "TIME", BZ_REDIS_NOKEY }, { "LASTSAVE", BZ_REDIS_NOKEY },
	{ "SAVE", BZ_REDIS_NOKEY }, { "BGSAVE", BZ_REDIS_NOKEY }, { "BGREWRITEAOF", BZ_REDIS_NOKEY },
	{ "SHUTDOWN", BZ_REDIS_NOKEY }, { "ROLE", BZ_REDIS_NOKEY }, { "REPLICAOF", BZ_REDIS_NOKEY },
	{ "SLAVEOF", BZ_REDIS_NOKEY }, { "WAIT", BZ_REDIS_NOKEY }, { "WAITAOF", BZ_REDIS_NOKEY },
	{ "FAILOVER", BZ_REDIS_NOKEY }, { "PSYNC", BZ_REDIS_NOKEY }, { "SYNC", BZ_REDIS_NOKEY },
	{ "REPLCONF", BZ_REDIS_NOKEY }, { "LOLWUT", BZ_REDIS_NOKEY }, { "READONLY", BZ_REDIS_NOKEY },
	{ "READWRITE", BZ_REDIS_NOKEY }, { "ASKING", BZ_REDIS_NOKEY }, { "XREAD", BZ_REDIS_NOKEY },
	{ "XREADGROUP", BZ_REDIS_NOKEY }, { "ZUNION", BZ_REDIS_NOKEY }, { "ZINTER", BZ_REDIS_NOKEY },
	{ "ZDIFF", BZ_REDIS_NOKEY }, { "ZINTERCARD", BZ_REDIS_NOKEY }, { "SINTERCARD", BZ_REDIS_NOKEY },
	{ "LMPOP", BZ_REDIS_NOKEY }, { "ZMPOP", BZ_REDIS_NOKEY }, { "BLMPOP", BZ_REDIS_NOKEY },
	{ "BZMPOP", BZ_REDIS_NOKEY }, { "BITOP", BZ_REDIS_NOKEY }, { "PUBSUB", BZ_REDIS_SUB },
	{ "SELECT", BZ_REDIS_DBINDEX },
	/* containers: a subcommand, then arguments */
	{ "ACL", BZ_REDIS_SUB }, { "CLIENT", BZ_REDIS_SUB }, { "CLUSTER", BZ_REDIS_SUB },
	{ "COMMAND", BZ_REDIS_SUB }, { "CONFIG", BZ_REDIS_SUB }, { "DEBUG", BZ_REDIS_SUB },
	{ "FUNCTION", BZ_REDIS_SUB }, { "LATENCY", BZ_REDIS_SUB }, { "MEMORY", BZ_REDIS_SUB },
	{ "MODULE", BZ_REDIS_SUB }, { "OBJECT", BZ_REDIS_SUB }, { "SCRIPT", BZ_REDIS_SUB },
	{ "SLOWLOG", BZ_REDIS_SUB }, { "XGROUP", BZ_REDIS_SUB }, { "XINFO", BZ_REDIS_SUB },
};

enum bz_redis_class bz_redis_class_of(const char *name, size_t n, int *known)
{
	if (known)
		*known = 0;
	if (!name || !n || n > BZ_REDIS_NAME_MAX)
		return BZ_REDIS_KEY;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strlen(cmds[i].name) == n && !strncasecmp(cmds[i].name, name, n)) {
			if (known)
				*known = 1;
			return cmds[i].cls;
		}
	}
	return BZ_REDIS_KEY;
}

const char *const bz_redis_sub_words[6] = {
	"subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe",
};

int bz_redis_sub_kind(const char *name, size_t n)
{
	for (int i = 0; i < 6; i++)
		if (strlen(bz_redis_sub_words[i]) == n && !strncasecmp(bz_redis_sub_words[i], name, n))
			return i + 1;
	return 0;
}

static const char *const http_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "PURGE", NULL,
};

/* Commands people type by hand (telnet, nc): the only first words of an
 * inline line a detector takes.  Libraries send RESP arrays; a word such
 * as HELLO begins English text as often as a Redis connection. */
static const char *const typed[] = {
	"PING", "INFO", "AUTH", "SELECT", "ECHO", "DBSIZE", "MONITOR", "SUBSCRIBE", "PSUBSCRIBE", "PUBLISH",
	"KEYS", "SET", "SETEX", "MGET", "MSET", "EXISTS", "DEL", "INCR", "DECR", "TTL", "EXPIRE", "LPUSH",
	"RPUSH", "LRANGE", "HGET", "HSET", "HGETALL", "SADD", "SMEMBERS", "ZADD", "ZRANGE", "SCAN", "FLUSHALL",
	"FLUSHDB", "CONFIG", "CLIENT", "QUIT", NULL,
};

int bz_redis_inline_command(const uint8_t *p, size_t n)
{
	const uint8_t *nl = p ? memchr(p, '\n', n) : NULL;
	size_t w = 0, len;
	int known = 0;

	if (!nl)
		return 0;
	len = (size_t)(nl - p);
	while (w < len && ((p[w] >= 'A' && p[w] <= 'Z') || (p[w] >= 'a' && p[w] <= 'z')))
		w++;
	if (!w || (w < len && p[w] != ' ' && p[w] != '\r'))
		return 0;
	/* a request line of HTTP/1 is never taken */
	for (int i = 0; http_methods[i]; i++)
		if (strlen(http_methods[i]) == w && !strncasecmp(http_methods[i], (const char *)p, w))
			return 0;
	for (size_t i = 0; i + 5 <= len; i++)
		if (!memcmp(p + i, "HTTP/", 5))
			return 0;
	for (size_t i = w; i < len; i++)
		if ((p[i] < 0x20 && p[i] != '\t' && !(p[i] == '\r' && i + 1 == len)) || p[i] == 0x7f)
			return 0;
	for (int i = 0; typed[i]; i++)
		if (strlen(typed[i]) == w && !strncasecmp(typed[i], (const char *)p, w))
			known = 1;
	return known;
}

enum bz_redis_class bz_redis_inline_class(const char *name, size_t n)
{
	int known = 0;
	enum bz_redis_class c = bz_redis_class_of(name, n, &known);

	return known ? c : BZ_REDIS_NOKEY;
}

int bz_redis_push_start(const uint8_t *p, size_t n)
{
	static const char *const starts[] = {
		"*3\r\n$7\r\nmessage\r\n", "*4\r\n$8\r\npmessage\r\n", "*3\r\n$8\r\nsmessage\r\n", NULL,
	};
	for (int i = 0; p && starts[i]; i++)
		if (n >= strlen(starts[i]) && !memcmp(p, starts[i], strlen(starts[i])))
			return 1;
	return 0;
}
