/*
 * fuzz_policy.c: libFuzzer target for the policy parser.
 *
 * The input is a policy file.  Whatever it holds, policy_parse must either
 * refuse it with a message naming the file, or give a policy whose every
 * rule can then judge every request type on a few paths and watch events
 * without crashing; a refusal's message and every warning name the file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "xsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_paths[] = { "/", "/local/domain/5",
    "/local/domain/5/data/x", "@introduceDomain", "@releaseDomain", "@x",
    NULL };

/* Every rule (and no rule) judges every type on every path. */
static void
fuzz_judge(const struct policy *p)
{
	const struct pol_rule	*r;
	const char		*why;
	size_t			 i, k;
	uint32_t		 t;

	for (i = 0; i <= p->p_nrules; i++) {
		r = i < p->p_nrules ? &p->p_rules[i] : NULL;
		for (t = 0; t < XSP_TYPE_COUNT + 1; t++) {
			for (k = 0; k < sizeof(fuzz_paths) /
			    sizeof(fuzz_paths[0]); k++) {
				if ((policy_judge(r, t & 1, t, fuzz_paths[k],
				    &why) == 0) != (why == NULL))
					abort();
				if (fuzz_paths[k] != NULL)
					(void)policy_event_visible(r,
					    fuzz_paths[k]);
			}
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const gid_t	 groups[] = { 0, 100, 991 };
	struct pol_ident	 id = { 990, 100, groups, 3, "/run/s" };
	struct policy		*p;
	char			*text, err[512];
	size_t			 i;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	err[0] = '\0';
	if (policy_parse(text, "fuzz.conf", &p, err, sizeof(err)) != 0) {
		if (strncmp(err, "fuzz.conf", 9) != 0)
			abort();
		free(text);
		return 0;
	}
	for (i = 0; i < p->p_nwarn; i++)
		if (strncmp(p->p_warn[i], "fuzz.conf", 9) != 0)
			abort();
	(void)policy_match(p, &id);
	(void)policy_listener_ro(p, "/run/s");
	fuzz_judge(p);
	policy_free(p);
	free(text);
	return 0;
}
