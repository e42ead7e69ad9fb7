/* goelf_pclntab.c - find functions by name in a Go binary's .gopclntab, the
 * table the Go runtime itself uses for stack traces.  It survives
 * `-ldflags=-s -w`, which removes .symtab and DWARF, so it is how functions
 * are found in stripped binaries.
 *
 * Layouts (little-endian; "word" is ptrSize bytes):
 *
 *   header:  magic u32, 2 zero bytes, minLC u8, ptrSize u8, then words
 *     Go 1.18+ (magic 0xfffffff0, 1.20+ 0xfffffff1):
 *       nfunc, nfiles, textStart, funcnameOff, cuOff, filetabOff, pctabOff, pclnOff
 *     Go 1.16-1.17 (magic 0xfffffffa): the same without textStart
 *   functab at pclnOff: nfunc (entry, funcOff) pairs, then one last entry
 *     Go 1.18+: u32 pairs, entry relative to textStart
 *     Go 1.16-1.17: word pairs, entry an absolute address
 *   _func at pclnOff + funcOff: entry (u32 / word), then nameOff i32
 *   name: NUL-terminated at funcnameOff + nameOff
 *
 * A function ends where the next one starts.  The file may be malformed:
 * every offset is checked against the table's length before it is used. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "record/goelf_int.h"

#define PCLN_MAGIC_116 0xfffffffau
#define PCLN_MAGIC_118 0xfffffff0u
#define PCLN_MAGIC_120 0xfffffff1u

struct pcln {
	const uint8_t *tab;
	size_t len;
	unsigned ptrsize;
	bool rel_entries;   /* Go 1.18+: u32 entries relative to text */
	uint64_t nfunc, text, funcname, functab;
};

/* Little-endian reads that fail instead of reading past the table. */
static int rd_le(const struct pcln *t, uint64_t off, unsigned size, uint64_t *v)
{
	uint64_t x = 0;

	if (off > t->len || t->len - off < size)
		return -1;
	for (unsigned i = 0; i < size; i++)
		x |= (uint64_t)t->tab[off + i] << (8 * i);
	*v = x;
	return 0;
}

static int parse_header(struct pcln *t, uint64_t text_addr, char *err, size_t errlen)
{
	uint64_t magic, w[8], nwords, pcln_off, entsize;

	if (rd_le(t, 0, 4, &magic) || t->len < 8) {
		snprintf(err, errlen, ".gopclntab too short (%zu bytes)", t->len);
		return -EINVAL;
	}
	if (magic == PCLN_MAGIC_118 || magic == PCLN_MAGIC_120)
		nwords = 8;
	else if (magic == PCLN_MAGIC_116)
		nwords = 7;
	else {
		snprintf(err, errlen, ".gopclntab magic 0x%08llx unknown (Go < 1.16?)",
			 (unsigned long long)magic);
		return -EINVAL;
	}
	t->ptrsize = t->tab[7];
	if (t->tab[4] || t->tab[5] || (t->ptrsize != 4 && t->ptrsize != 8)) {
		snprintf(err, errlen, ".gopclntab header malformed (pointer size %u)", t->ptrsize);
		return -EINVAL;
	}
	for (uint64_t i = 0; i < nwords; i++)
		if (rd_le(t, 8 + i * t->ptrsize, t->ptrsize, &w[i])) {
			snprintf(err, errlen, ".gopclntab header cut short");
			return -EINVAL;
		}
	t->nfunc = w[0];
	t->rel_entries = nwords == 8;
	if (t->rel_entries) {
		/* textStart is runtime.text; some link modes leave it 0 in the
		 * file (filled by a relocation), and .text starts there. */
		t->text = w[2] ? w[2] : text_addr;
		t->funcname = w[3];
		pcln_off = w[7];
	} else {
		t->text = 0;
		t->funcname = w[2];
		pcln_off = w[6];
	}
	t->functab = pcln_off;
	entsize = t->rel_entries ? 8 : 2ull * t->ptrsize;
	/* nfunc pairs and one last entry must fit (written to avoid overflow). */
	if (pcln_off >= t->len || t->len - pcln_off < entsize / 2 || t->nfunc == 0 ||
	    t->nfunc > (t->len - pcln_off - entsize / 2) / entsize || t->funcname >= t->len) {
		snprintf(err, errlen, ".gopclntab function table out of bounds");
		return -EINVAL;
	}
	return 0;
}

/* Entry address and _func offset of function i (i == nfunc: the end entry). */
static int functab_entry(const struct pcln *t, uint64_t i, uint64_t *entry, uint64_t *funcoff)
{
	unsigned ws = t->rel_entries ? 4 : t->ptrsize;
	uint64_t off = t->functab + i * 2 * ws;

	if (rd_le(t, off, ws, entry))
		return -1;
	if (t->rel_entries)
		*entry += t->text;
	if (funcoff && (i >= t->nfunc || rd_le(t, off + ws, ws, funcoff)))
		return -1;
	return 0;
}

/* Offset of function i's name in the table, or -1. */
static int64_t name_offset(const struct pcln *t, uint64_t funcoff)
{
	unsigned ws = t->rel_entries ? 4 : t->ptrsize;
	uint64_t nameoff, off;

	if (funcoff > t->len - t->functab)
		return -1;
	if (rd_le(t, t->functab + funcoff + ws, 4, &nameoff))
		return -1;
	if ((int32_t)nameoff < 0)
		return -1;
	off = t->funcname + nameoff;
	return off < t->len ? (int64_t)off : -1;
}

/* True when the NUL-terminated string at off equals name. */
static bool name_is(const struct pcln *t, uint64_t off, const char *name, size_t nlen)
{
	return t->len - off > nlen && !memcmp(t->tab + off, name, nlen) && t->tab[off + nlen] == '\0';
}

int bz_pclntab_lookup(const uint8_t *tab, size_t len, uint64_t text_addr,
		      const char *const *names, size_t n, struct bz_pcln_func *out,
		      char *err, size_t errlen)
{
	struct pcln t = { .tab = tab, .len = len };
	size_t left = n;
	int rc;

	memset(out, 0, n * sizeof(*out));
	if (!tab) {
		snprintf(err, errlen, "no .gopclntab");
		return -EINVAL;
	}
	rc = parse_header(&t, text_addr, err, errlen);
	if (rc)
		return rc;
	for (uint64_t i = 0; i < t.nfunc && left; i++) {
		uint64_t entry, next, funcoff;
		int64_t noff;

		if (functab_entry(&t, i, &entry, &funcoff) || functab_entry(&t, i + 1, &next, NULL)) {
			snprintf(err, errlen, ".gopclntab function %llu out of bounds",
				 (unsigned long long)i);
			return -EINVAL;
		}
		noff = name_offset(&t, funcoff);
		if (noff < 0)
			continue; /* a bad entry hides one function, not the table */
		for (size_t k = 0; k < n; k++) {
			if (out[k].found || !name_is(&t, (uint64_t)noff, names[k], strlen(names[k])))
				continue;
			/* Entries are sorted; a function that does not end after it
			 * starts means the table is damaged here. */
			if (next > entry) {
				out[k] = (struct bz_pcln_func){ true, entry, next - entry };
				left--;
			}
		}
	}
	return 0;
}
