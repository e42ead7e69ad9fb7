/* html_escape.h - bytes from the wild (URLs, headers, attributes, process
 * names: whatever the database holds) written as HTML text.
 *
 * The output is safe as element content and inside a quoted attribute value
 * (either quote), in HTML and in inline SVG: the five markup characters
 * become character references, and what is not well-formed, printable
 * UTF-8 is replaced, so a browser can never read a tag, an entity or an end
 * of attribute into it, nor be told to reorder the text around it:
 *   & < > " '           -> &amp; &lt; &gt; &quot; &#39;  (and ` -> &#96;)
 *   control bytes        -> their Control Pictures (U+2400 + byte: NUL shows
 *                           as a visible "␀"), DEL -> "␡"; tab and newline kept
 *   C1 controls, bidi embedding/override/isolate characters, and every byte
 *   that is not part of a well-formed UTF-8 sequence (overlong, surrogate,
 *   above U+10FFFF, cut short)  -> U+FFFD, one per byte
 * Everything else is copied: valid UTF-8 text stays as it is.
 */
#ifndef BEYLA_HTML_ESCAPE_H
#define BEYLA_HTML_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Writes s[0..n) escaped.  At most max input bytes are used (cut before a
 * character that would pass max); when some were left out, "…" follows.
 * Returns 0, or -EIO when writing failed. */
int bz_html_escape(FILE *out, const char *s, size_t n, size_t max);

/* The same for a NUL-terminated string (NULL writes nothing), no limit. */
int bz_html_text(FILE *out, const char *s);

/* How many bytes of s[0..n) starting at i form one well-formed UTF-8
 * character (1 to 4), or 0 if the byte at i does not start one. */
size_t bz_utf8_len(const unsigned char *s, size_t n, size_t i);

#endif
