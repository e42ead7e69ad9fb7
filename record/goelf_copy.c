/* goelf_copy.c - where crypto/tls.(*Conn).Read copies its plaintext out:
 * the place of --go=fast's read probe.
 *
 * A return probe on (*Conn).Read is a uprobe on each RET, which the kernel
 * single-steps (~15 us a hit here).  The plaintext is already known one
 * step earlier: Read ends with c.input.Read(b), a bytes.Reader.Read the
 * compiler inlines, whose copy is a CALL runtime.memmove(to=RAX, from=RBX,
 * n=RCX).  A CALL is emulated by the kernel (~3 us), and at it RBX points at
 * the plaintext and RCX says how much of it the caller gets.  What the call
 * does not hold is the connection: by then RAX is &c.input, not c.  Go's
 * register ABI gives every register argument a spill slot in the caller's
 * frame, just above the return address (entry RSP + 8), and a function that
 * needs its receiver after a call stores it there; with the frame pointer
 * at entry RSP - 8 (PUSH RBP; MOV RBP,RSP since Go 1.21, SUB/MOV/LEA
 * before), the receiver is at RBP+16 anywhere in the body.
 *
 * So this scan accepts a function only when (a) exactly one CALL targets
 * runtime.memmove (a second copy would be a code shape this reasoning has
 * not seen), and (b) the code before its first CALL sets RBP to the entry
 * RSP - 8 and stores RAX at entry RSP + 8.  Anything else: no copy probe,
 * and copy_why says which part failed.  The linear sweep is the one of
 * goelf_rets.c (Go puts no data in code), with operand details on. */
#include <capstone/capstone.h>
#include <errno.h>
#include <stdio.h>
#include "record/goelf_int.h"

/* What the prologue did to RSP and RBP, relative to RSP at entry. */
struct frame_track {
	int64_t sp;
	int64_t bp;
	bool bp_set;
	bool receiver_spilled;
};

static bool is_reg(const cs_x86_op *op, x86_reg r) { return op->type == X86_OP_REG && op->reg == r; }

static bool is_rsp_mem(const cs_x86_op *op)
{
	return op->type == X86_OP_MEM && op->mem.base == X86_REG_RSP && op->mem.index == X86_REG_INVALID &&
	       op->mem.segment == X86_REG_INVALID;
}

/* Follows one instruction of the prologue (before the first CALL). */
static void track(struct frame_track *t, const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;
	const cs_x86_op *a = &x->operands[0], *b = &x->operands[1];

	if (insn->id == X86_INS_PUSH && x->op_count == 1 && a->type == X86_OP_REG) {
		t->sp -= 8;
	} else if (insn->id == X86_INS_SUB && x->op_count == 2 && is_reg(a, X86_REG_RSP) && b->type == X86_OP_IMM) {
		t->sp -= b->imm;
	} else if (insn->id == X86_INS_MOV && x->op_count == 2 && is_reg(a, X86_REG_RBP) && is_reg(b, X86_REG_RSP)) {
		t->bp = t->sp;
		t->bp_set = true;
	} else if (insn->id == X86_INS_LEA && x->op_count == 2 && is_reg(a, X86_REG_RBP) && is_rsp_mem(b)) {
		t->bp = t->sp + b->mem.disp;
		t->bp_set = true;
	} else if (insn->id == X86_INS_MOV && x->op_count == 2 && is_rsp_mem(a) && is_reg(b, X86_REG_RAX) &&
		   t->sp + a->mem.disp == 8) {
		t->receiver_spilled = true;
	}
}

int bz_gocopy_scan(const uint8_t *code, size_t len, uint64_t file_off, uint64_t vaddr, uint64_t callee,
		   struct bz_go_func *f)
{
	struct frame_track t = { 0 };
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = vaddr, at = 0;
	bool prologue = true;
	int calls = 0, rc = 0;
	cs_insn *insn;
	csh h;

	f->copy_call = 0;
	f->copy_why[0] = '\0';
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		snprintf(f->copy_why, sizeof(f->copy_why), "capstone: cannot open an x86-64 disassembler");
		return -EIO;
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(h);
	if (!insn) {
		cs_close(&h);
		snprintf(f->copy_why, sizeof(f->copy_why), "capstone: out of memory");
		return -ENOMEM;
	}
	while (left > 0) {
		uint64_t here = addr;

		if (!cs_disasm_iter(h, &p, &left, &addr, insn)) {
			snprintf(f->copy_why, sizeof(f->copy_why), "instruction at +0x%llx does not decode",
				 (unsigned long long)(here - vaddr));
			calls = -1;
			break;
		}
		if (insn->id == X86_INS_CALL) {
			const cs_x86 *x = &insn->detail->x86;

			prologue = false;
			if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM &&
			    (uint64_t)x->operands[0].imm == callee) {
				calls++;
				at = insn->address - vaddr;
			}
		} else if (prologue) {
			track(&t, insn);
		}
	}
	if (calls == 0)
		snprintf(f->copy_why, sizeof(f->copy_why), "no CALL runtime.memmove in it");
	else if (calls > 1)
		snprintf(f->copy_why, sizeof(f->copy_why), "%d CALLs runtime.memmove in it, not one", calls);
	else if (calls == 1 && (!t.bp_set || t.bp != -8))
		snprintf(f->copy_why, sizeof(f->copy_why), "its frame pointer is not at the entry's RSP - 8");
	else if (calls == 1 && !t.receiver_spilled)
		snprintf(f->copy_why, sizeof(f->copy_why), "its receiver is not stored in its spill slot");
	else if (calls == 1)
		f->copy_call = file_off + at;
	cs_free(insn, 1);
	cs_close(&h);
	return rc;
}
