// The checkpoint: where a mapping's load stands, committed with each batch's rows.
//   row.ts     the checkpoint row (DMS_CHKPNT in the target schema) and the state the workflow knows
//   codec.ts   the key's text form, as DMS_CHKPNT and DMS_PRCLOG.PARAM1 hold it
//   fence.ts   the ownership check every batch makes on the locked row
//   mirror.ts  mirroring it into DMS_PRCLOG.PARAM1 after each commit, and reading PARAM1 back
// Each dialect keeps the table itself (PostgreSQL: dialects/postgres/postgres-checkpoint-table.ts).
export * from './codec';
export * from './fence';
export * from './mirror';
export * from './row';
export * from './partition';
