-- A small clgauge results store (schema version 1, see include/clgauge/results_store.hpp):
-- one shape, six search evaluations with different outcomes, one replay run and one
-- baseline. Tests build the store from this text with SQLite.
PRAGMA journal_mode = WAL;
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta(key, value) VALUES
  ('schema', 'clgauge-results-store'),
  ('schema_version', '1'),
  ('identity', '[["env_fingerprint","fedcba9876543210"],["device","Portable Computing Language / cpu"],["shapes","256x256x256"],["seed","42"]]');
CREATE TABLE evaluations(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, config_id TEXT NOT NULL, shape TEXT NOT NULL,
  phase TEXT NOT NULL, session INTEGER NOT NULL, run INTEGER NOT NULL, family TEXT NOT NULL,
  params TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL, samples_ms TEXT NOT NULL,
  host_ms TEXT NOT NULL, build_ms REAL NOT NULL, first_launch_ms REAL NOT NULL,
  gflops_median REAL NOT NULL, env_fingerprint TEXT NOT NULL, ts_unix_ms INTEGER NOT NULL,
  UNIQUE(config_id, shape, phase, session, run));
INSERT INTO evaluations(config_id, shape, phase, session, run, family, params, reason, detail,
                        samples_ms, host_ms, build_ms, first_launch_ms, gflops_median,
                        env_fingerprint, ts_unix_ms) VALUES
  ('1111111111111111', '256x256x256', 'search', 0, 0, 'gemm.regtile',
   '{"MR":6,"NR":16,"VW":16,"WGM":16,"WGN":1,"PACK_A":1}', 'ok', '',
   '[1.5,1.25,2.0,1.75]', '[1.75,1.5,2.25,2.0]', 120.5, 3.25, 20.5, 'fedcba9876543210',
   1795000000123),
  ('2222222222222222', '256x256x256', 'search', 0, 0, 'gemm.regtile',
   '{"MR":16,"NR":128,"VW":16,"WGM":1,"WGN":1,"PACK_A":1}', 'build_failed',
   'register budget exceeded', '[]', '[]', 45.0, 0, 0, 'fedcba9876543210', 1795000001000),
  ('3333333333333333', '256x256x256', 'search', 0, 0, 'gemm.localtile',
   '{"MWG":64,"NWG":64,"KWG":16,"MDIMC":16,"NDIMC":16,"VWM":4,"LPAD":1}', 'parity_mismatch',
   'C(3, 7) differs', '[]', '[]', 80.0, 2.0, 0, 'fedcba9876543210', 1795000002000),
  ('4444444444444444', '256x256x256', 'search', 0, 0, 'gemm.regtile',
   '{"MR":1,"NR":4,"VW":4,"WGM":1,"WGN":1,"PACK_A":0}', 'timeout', 'run timeout 10 s', '[]',
   '[]', 30.0, 0, 0, 'fedcba9876543210', 1795000003000),
  ('5555555555555555', '256x256x256', 'search', 0, 0, 'gemm.regtile',
   '{"MR":2,"NR":8,"VW":8,"WGM":1,"WGN":1,"PACK_A":1}', 'abandoned_slow',
   'slower than 2x the best (2.5 ms)', '[6.0]', '[6.5]', 25.0, 6.5, 5.5, 'fedcba9876543210',
   1795000004000),
  ('6666666666666666', '256x256x256', 'search', 0, 0, 'gemm.localtile',
   '{"MWG":128,"NWG":128,"KWG":64,"MDIMC":16,"NDIMC":16,"VWM":4,"LPAD":1}', 'invalid_config',
   'needs 66560 bytes of local memory', '[]', '[]', 0, 0, 0, 'fedcba9876543210',
   1795000005000),
  ('1111111111111111', '256x256x256', 'replay', 1, 0, 'gemm.regtile',
   '{"MR":6,"NR":16,"VW":16,"WGM":16,"WGN":1,"PACK_A":1}', 'ok', '', '[1.5,1.5,1.5]',
   '[1.75,1.75,1.75]', 0, 1.5, 22.37, 'fedcba9876543210', 1795000006000),
  ('clblast', '256x256x256', 'baseline', 0, 0, 'clblast', '{}', 'ok', '', '[3.0]', '[3.5]', 0,
   3.0, 11.18, 'fedcba9876543210', 1795000007000);
