/*
 * examples/embed/z3check.c — the Z3 cross-check (libvfm_z3, <vfm_z3.h>)
 * from a program: check every claim the verifier makes about a bytecode
 * file and print the report, as `vfm-verify --z3` does.
 *
 *   z3check FILTER.bin
 *
 * libvfm_z3 is a static archive that uses libvfm's internals, so it links
 * with libvfm.a: cc z3check.c $(pkg-config --cflags --libs vfm-z3)
 * Exit status: 0 no claim refuted, 1 refuted or refused, 2 usage.
 */
#include <stdio.h>

#include <vfm_z3.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: z3check FILTER.bin\n");
		return 2;
	}
	vfm_program_t *prog;
	vfm_diag_t diag;
	if (vfm_program_create_file(argv[1], &prog, &diag) != VFM_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], diag.message);
		return 1;
	}
	struct vfm_z3_options opt;
	struct vfm_z3_report report;
	vfm_z3_options_init(&opt);
	vfm_error_t err = vfm_z3_check(prog, &opt, &report);
	vfm_z3_print_report(stdout, prog, &report);
	vfm_z3_report_free(&report);
	vfm_program_release(prog);
	return err == VFM_OK ? 0 : 1;
}
