/* goelf_rets.c - the RET instructions of a Go function, where the Go
 * "return probes" go (goelf.h says why they cannot be uretprobes).
 *
 * The function is disassembled linearly from its entry with Capstone.  Go
 * puts no data inside a function's code (jump tables live in .rodata) and
 * pads between functions with INT3 (0xCC), which decodes, so a linear sweep
 * sees every instruction.  An instruction that does not decode therefore
 * means the sweep is lost (or Capstone does not know a new instruction): we
 * do not skip a byte and carry on, because a resynchronised sweep can take
 * a 0xC3 inside another instruction for a RET, and a uprobe placed in the
 * middle of an instruction corrupts the program.  The function then gets no
 * return probes, and why says so.  The same holds when it has more RETs
 * than BZ_GO_MAX_RETS: some returns unprobed would leave calls open.
 *
 * The same sweep finds where the entry probe goes.  A uprobe on an
 * instruction the kernel cannot emulate is single-stepped out of line: two
 * traps, which measured ~17 us per hit in this project's VM, against ~3 us
 * for one the kernel emulates (PUSH, and conditional jumps).  Single-stepping
 * has a worse flaw: a signal arriving during the step (Go preempts
 * goroutines with SIGURG) makes the kernel run the instruction again later,
 * and the probe fires twice for one call.  Go functions open with the stack
 * check (CMP against g.stackguard0, sometimes a LEA first, then a JBE to the
 * grow-and-retry path at the end).  Since Go 1.21 a PUSH RBP follows: it
 * runs exactly once per call, with the argument registers and R14 untouched,
 * so the entry probe goes there.  Older Go builds the frame with SUB/MOV
 * (not emulated): the probe goes on the JBE itself, which a call passes once,
 * or twice when it first has to grow its stack (morestack re-enters the
 * function); the BPF side ignores the pass that will jump (CF or ZF set). */
#include <capstone/capstone.h>
#include <errno.h>
#include <stdio.h>
#include "record/goelf_int.h"

int bz_gorets_scan(const uint8_t *code, size_t len, uint64_t file_off, struct bz_go_func *f)
{
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = 0;
	cs_insn *insn;
	csh h;
	int rc = 0;

	f->n_rets = 0;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		snprintf(f->why, sizeof(f->why), "capstone: cannot open an x86-64 disassembler");
		return -EIO;
	}
	/* Instruction ids are all we look at: no operand details needed. */
	insn = cs_malloc(h);
	if (!insn) {
		cs_close(&h);
		snprintf(f->why, sizeof(f->why), "capstone: out of memory");
		return -ENOMEM;
	}
	f->probe_entry = file_off;
	f->probe_entry_jbe = false;
	for (int n = 0, prologue = 1; left > 0; n++) {
		if (!cs_disasm_iter(h, &p, &left, &addr, insn)) {
			snprintf(f->why, sizeof(f->why),
				 "instruction at +0x%llx does not decode: no return probes",
				 (unsigned long long)addr);
			rc = -EINVAL;
			break;
		}
		if (prologue) {
			if (insn->id == X86_INS_PUSH && insn->size == 1 && insn->bytes[0] == 0x55) {
				f->probe_entry = file_off + insn->address;
				f->probe_entry_jbe = false;
				prologue = 0;
			} else if (insn->id == X86_INS_JBE) {
				/* the check's branch: use it unless a PUSH RBP follows */
				f->probe_entry = file_off + insn->address;
				f->probe_entry_jbe = true;
			} else if (n >= 5 || (insn->id != X86_INS_CMP && insn->id != X86_INS_LEA)) {
				prologue = 0; /* the frame is built otherwise: keep what was found */
			}
		}
		if (insn->id != X86_INS_RET)
			continue;
		if (f->n_rets == BZ_GO_MAX_RETS) {
			snprintf(f->why, sizeof(f->why), "more than %d RET instructions: no return probes",
				 BZ_GO_MAX_RETS);
			rc = -EINVAL;
			break;
		}
		f->rets[f->n_rets++] = file_off + insn->address;
	}
	if (rc)
		f->n_rets = 0;
	else if (f->n_rets == 0)
		snprintf(f->why, sizeof(f->why), "no RET instruction in %zu bytes", len);
	cs_free(insn, 1);
	cs_close(&h);
	return rc;
}
