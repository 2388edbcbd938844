// Writes the LIST<FLOAT> fixtures of FloatListPagesTests with DuckDB 1.5 (npm @duckdb/node-api):
//   npm install --prefix /tmp/duck @duckdb/node-api && node generate.mjs /tmp/duck OUTPUT_FOLDER
import { createRequire } from 'node:module';
const require = createRequire(process.argv[2] + '/');
const { DuckDBInstance } = require('@duckdb/node-api');
const out = process.argv[3];
const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await instance.connect();
await con.run(`SELECT setseed(0.42)`);
// 1,500 rows: mostly 8-d lists of random floats; a null list every 97th row, an empty list every 89th, a null element
// every 53rd; low_card holds 13 distinct values (dictionary-encoded); flat columns with nulls: kind (two strings),
// weight (FLOAT), label (INT32), name (1,500 distinct strings).
await con.run(`CREATE TABLE t AS SELECT i::BIGINT AS node_id,
  CASE WHEN i % 97 = 5 THEN NULL WHEN i % 89 = 7 THEN []::FLOAT[]
       ELSE list_transform(range(8), j -> CASE WHEN i % 53 = 3 AND j = 3 THEN NULL ELSE (random() * 2 - 1)::FLOAT END) END AS feature_vec,
  list_transform(range(8), j -> (((i * 7 + j) % 13)::FLOAT) / 4) AS low_card,
  CASE WHEN i % 31 = 3 THEN NULL WHEN i % 7 = 0 THEN 'item' ELSE 'user' END AS kind,
  CASE WHEN i % 13 = 2 THEN NULL ELSE (random() * 4)::FLOAT END AS weight,
  CASE WHEN i % 17 = 1 THEN NULL ELSE (i % 5)::INTEGER END AS label,
  'node-' || (i * 7919 % 1500)::VARCHAR AS name
  FROM range(1500) r(i)`);
const variants = [
  ['snappy', "COMPRESSION 'snappy'"],
  ['uncompressed', "COMPRESSION 'uncompressed'"],
  ['gzip', "COMPRESSION 'gzip'"],
  ['zstd-row-groups', "COMPRESSION 'zstd', ROW_GROUP_SIZE 500"],
  ['lz4raw', "COMPRESSION 'lz4_raw'"],
  ['byte-stream-split', "COMPRESSION 'snappy', PARQUET_VERSION 'V2'"],
];
for (const [name, opts] of variants)
  await con.run(`COPY t TO '${out}/${name}.parquet' (FORMAT parquet, ${opts})`);
