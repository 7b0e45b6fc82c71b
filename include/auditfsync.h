/*
 * auditfsync.h - when the audit log is synced to disk
 *
 * One enum for one idea: the config's audit-fsync key (conf.h) holds
 * it, the sink (auditsink.h) acts on it.  It lives apart from both so
 * the config does not depend on the sink's interface, nor the sink on
 * the config.  Types only: no functions, no storage.
 */
#ifndef TLSPOLICY_AUDITFSYNC_H
#define TLSPOLICY_AUDITFSYNC_H

/* When the sink calls fdatasync(2); config values in comments. */
enum audit_fsync {
	AUDIT_FSYNC_INTERVAL = 0,	/* interval (default): in audit_sink_sync,
					 * the daemon calls it every second */
	AUDIT_FSYNC_EVERY,		/* every: after every record, before
					 * the reply */
	AUDIT_FSYNC_NONE,		/* none: leave it to the kernel */
	AUDIT_FSYNC_COUNT
};

#endif /* TLSPOLICY_AUDITFSYNC_H */
