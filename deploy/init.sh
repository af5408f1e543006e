#!/bin/sh
# One-shot preparation before the portal starts (compose's init service). Every step is skipped
# when already done, so it runs at every start. Settings come from the usual ANPR_* variables;
# the steps are chosen by INIT_* variables (not ANPR_*: the portal refuses unknown ANPR_ names).
#   INIT_ES_SETUP=1        run `anpr es setup` (needs administrator credentials) and write new
#                          API keys to $ANPR_DATA_DIR/es-keys/<name>.key
#   INIT_API_KEYS=portal   the roles to issue keys for
#   INIT_SEED_READS=N      seed N synthetic reads once (a demo; 0 = none)
set -eu
: "${ANPR_DATA_DIR:=/var/lib/anpr}"

if [ "${INIT_ES_SETUP:-0}" = 1 ]; then
	anpr es setup --api-keys="${INIT_API_KEYS:-portal}" --key-dir="$ANPR_DATA_DIR/es-keys"
fi
if [ ! -f "$ANPR_DATA_DIR/audit-keys/audit-signer.key" ]; then
	anpr audit keys init --name "${INIT_AUDIT_KEY_NAME:-anpr-audit}"
fi
if [ "${INIT_SEED_READS:-0}" -gt 0 ] && [ ! -f "$ANPR_DATA_DIR/.seeded" ]; then
	anpr seed --reads "$INIT_SEED_READS"
	touch "$ANPR_DATA_DIR/.seeded"
fi
