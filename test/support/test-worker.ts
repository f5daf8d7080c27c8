// A real dms worker with test-only fault points, configured by DMS_TEST_FAULTS (JSON):
//   [{"point":"afterCommit","batch":3,"action":"kill"},
//    {"point":"beforeLock","batch":4,"attempt":1,"action":"stall","ms":6000},
//    {"point":"beforeRelease","batch":0,"attempt":1,"action":"fail"},   (a lost target connection)
//    {"point":"beforeCommit","batch":5,"action":"stray"}]   (an 'error' event no code listens for)
// A fault with "once": <file> fires in one worker only, the first to create that file.
// `dms worker` never loads this file, so no normal run can trigger a fault.
import { EventEmitter } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import type { FaultHook, FaultPoint } from '../../activities';
import { runWorker } from '../../worker/main';

interface Fault {
  point: FaultPoint;
  batch: number;
  attempt?: number;
  /** Only in this key range of a partitioned run. */
  partition?: number;
  /** A file: the fault fires only where it can create it, so once among all workers of a test. */
  once?: string;
  action: 'kill' | 'stall' | 'fail' | 'stray';
  ms?: number;
}

const faults: Fault[] = JSON.parse(process.env.DMS_TEST_FAULTS ?? '[]');

function claimOnce(file: string): boolean {
  try {
    closeSync(openSync(file, 'wx'));
    return true;
  } catch {
    return false;
  }
}

const hook: FaultHook = async (point, at) => {
  for (const f of faults) {
    if (f.point !== point || f.batch !== at.batch || (f.attempt !== undefined && f.attempt !== at.attempt)) continue;
    if (f.partition !== undefined && f.partition !== at.partition) continue;
    if (f.once !== undefined && !claimOnce(f.once)) continue;
    if (f.action === 'fail') {
      console.log(`fault: fail at ${point} of batch ${at.batch} attempt ${at.attempt}`);
      throw Object.assign(new Error('fault: the target connection was lost'), { code: '08006' });
    }
    if (f.action === 'stray') {
      // An 'error' event nobody listens for, as a driver's socket emits one (the batch goes on).
      console.log(`fault: stray error at ${point} of batch ${at.batch} of ${at.mapref}`);
      setImmediate(() =>
        new EventEmitter().emit(
          'error',
          Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' }),
        ),
      );
      continue;
    }
    if (f.action === 'kill') {
      console.log(`fault: kill at ${point} of batch ${at.batch}${at.partition ? ` of range ${at.partition}` : ''}`);
      process.kill(process.pid, 'SIGKILL');
    }
    console.log(`fault: stall start at ${point} of batch ${at.batch} attempt ${at.attempt} of ${at.mapref}`);
    await new Promise((r) => setTimeout(r, f.ms ?? 5000));
    console.log(`fault: stall end at ${point} of batch ${at.batch} attempt ${at.attempt} of ${at.mapref}`);
  }
};

runWorker({ faults: hook }).catch((err) => {
  console.error(err);
  process.exit(1);
});
