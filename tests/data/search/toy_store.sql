-- A tiny clgauge results store (schema of results_store.hpp, version 1) for the simulation
-- tests. Regenerate toy_store.sqlite with: sqlite3 toy_store.sqlite < toy_store.sql
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema', 'clgauge-results-store'), ('schema_version', '1'),
  ('identity', '[["device","test"],["seed","1"]]');
CREATE TABLE evaluations(seq INTEGER PRIMARY KEY AUTOINCREMENT, config_id TEXT NOT NULL,
  shape TEXT NOT NULL, phase TEXT NOT NULL, session INTEGER NOT NULL, run INTEGER NOT NULL,
  family TEXT NOT NULL, params TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL,
  samples_ms TEXT NOT NULL, host_ms TEXT NOT NULL, build_ms REAL NOT NULL,
  first_launch_ms REAL NOT NULL, gflops_median REAL NOT NULL, env_fingerprint TEXT NOT NULL,
  ts_unix_ms INTEGER NOT NULL, UNIQUE(config_id, shape, phase, session, run));
INSERT INTO evaluations(config_id, shape, phase, session, run, family, params, reason, detail,
  samples_ms, host_ms, build_ms, first_launch_ms, gflops_median, env_fingerprint, ts_unix_ms) VALUES
 ('00000000000000a1', '64x64x64', 'search', 0, 0, 'gemm.regtile', '{"MR":4,"NR":8}', 'ok', '', '[3.0,1.0,2.0]', '[3.5,1.5,2.5]', 100, 10, 1, '0123456789abcdef', 1),
 ('00000000000000a2', '64x64x64', 'search', 0, 0, 'gemm.regtile', '{"MR":8,"NR":8}', 'ok', '', '[1.5,0.5]', '[2,1]', 100, 10, 1, '0123456789abcdef', 2),
 ('00000000000000a3', '64x64x64', 'search', 0, 0, 'gemm.regtile', '{"MR":4,"NR":16}', 'build_failed', 'error: boom', '[]', '[]', 50, 0, 0, '0123456789abcdef', 3),
 ('00000000000000a4', '64x64x64', 'search', 0, 0, 'gemm.regtile', '{"MR":2,"NR":16}', 'ok', '', '[4.0]', '[4.5]', 100, 10, 1, '0123456789abcdef', 4),
 ('00000000000000a1', '64x64x64', 'search', 1, 0, 'gemm.regtile', '{"MR":4,"NR":8}', 'ok', '', '[0.9,1.1,1.0]', '[1,1,1]', 100, 10, 1, '0123456789abcdef', 5),
 ('00000000000000a1', '64x64x64', 'replay', 0, 0, 'gemm.regtile', '{"MR":4,"NR":8}', 'ok', '', '[0.1]', '[0.1]', 0, 0, 1, '0123456789abcdef', 6),
 ('00000000000000b1', '32x32x32', 'search', 0, 0, 'gemm.regtile', '{"MR":4,"NR":8}', 'ok', '', '[0.2]', '[0.3]', 100, 10, 1, '0123456789abcdef', 7),
 ('clblast', '64x64x64', 'baseline', 0, 0, 'clblast', '{}', 'ok', '', '[0.3]', '[0.3]', 0, 0, 1, '0123456789abcdef', 8);
