/*
 * A stand-in for Azure's `pgaadauth` label provider, for tests only: Azure's own is not public. It accepts
 * labels on roles that start with `aadauth` (Azure's format: 'aadauth,oid=<id>,type=<user|group|service>[,admin]')
 * and rejects everything else, so `SECURITY LABEL FOR "pgaadauth"` behaves as on Flexible Server.
 * Loaded through shared_preload_libraries after pgaudit.
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "commands/seclabel.h"
#include "fmgr.h"

PG_MODULE_MAGIC;

void _PG_init(void);

static void
pgaadauth_object_relabel(const ObjectAddress *object, const char *seclabel)
{
	if (object->classId != AuthIdRelationId)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pgaadauth labels apply to roles only")));
	if (seclabel != NULL && strncmp(seclabel, "aadauth", 7) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid pgaadauth label: \"%s\"", seclabel)));
}

void
_PG_init(void)
{
	register_label_provider("pgaadauth", pgaadauth_object_relabel);
}
