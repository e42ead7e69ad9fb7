/* redact_redis.h - what the tests ask of the Redis masker (redact_redis.c;
 * the recorder reaches it through redact_wire.h's rd_wire_redis). */
#ifndef BEYLA_RECORD_REDACT_REDIS_H
#define BEYLA_RECORD_REDACT_REDIS_H

#include <stdint.h>

/* Times direction dir of the masker state st lost its framing (and masked
 * whole until it could restart).  A stream that never lost it is masked
 * the same however it was cut into payloads; one that did restarts at
 * payload starts, so its cuts matter. */
uint32_t rd_redis_losses(const void *st, unsigned dir);

#endif
