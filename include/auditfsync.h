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

/*
 * When the sink calls fdatasync(2); the config value of each in quotes:
 * "interval" (the default) in audit_sink_sync, which the daemon calls
 * every second; "every" after every record, before the reply; "none"
 * never, leaving it to the kernel.
 */
enum audit_fsync {
	AUDIT_FSYNC_INTERVAL = 0,	/* "interval" */
	AUDIT_FSYNC_EVERY,		/* "every" */
	AUDIT_FSYNC_NONE,		/* "none" */
	AUDIT_FSYNC_COUNT
};

#endif /* TLSPOLICY_AUDITFSYNC_H */
