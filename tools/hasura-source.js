// Points a Hasura source at a file that a file destination keeps current (`dynamic_from_file`), once:
//   node tools/hasura-source.js <hasura-url> <admin-secret> <source> <file>
// Used by docker-compose's `hasura` profile. Hasura connects before it keeps a source, so until the file holds a
// working URL (until a file destination wrote it) the call is refused with `invalid-configuration`: this waits and
// tries again. A source that already reads that file is left as it is. Nothing read from Hasura is printed: its
// metadata holds database URLs with their passwords.
const [hasuraUrl, adminSecret, source, file] = process.argv.slice(2);
if (!hasuraUrl || !adminSecret || !source || !file) {
  console.error('usage: node tools/hasura-source.js <hasura-url> <admin-secret> <source> <file>');
  process.exit(2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function call(body) {
  const answer = await fetch(`${hasuraUrl.replace(/\/+$/, '')}/v1/metadata`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hasura-admin-secret': adminSecret },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: answer.status, body: await answer.json().catch(() => ({})) };
}

let waitingSaid = false;
for (;;) {
  let exported;
  try {
    exported = await call({ type: 'export_metadata', version: 2, args: {} });
  } catch {
    await sleep(2000);
    continue;
  }
  if (exported.status !== 200) {
    console.error(`Hasura answered export_metadata with ${exported.status} ${exported.body.code ?? ''}`);
    process.exit(1);
  }
  const existing = exported.body.metadata.sources?.find((s) => s.name === source);
  const databaseUrl = existing?.configuration?.connection_info?.database_url;
  if (databaseUrl?.dynamic_from_file === file) {
    console.log(`Hasura source "${source}" reads its URL from ${file}`);
    process.exit(0);
  }
  // Only database_url changes: pg_update_source replaces the whole configuration (it does not merge).
  const configuration = structuredClone(existing?.configuration ?? { connection_info: {} });
  configuration.connection_info.database_url = { dynamic_from_file: file };
  const answer = await call({
    type: existing ? 'pg_update_source' : 'pg_add_source',
    resource_version: exported.body.resource_version,
    args: { name: source, configuration },
  });
  if (answer.status === 200) continue; // verified by the next round's export
  if (answer.status === 409) continue;
  if (answer.body.code === 'invalid-configuration' || answer.body.code === 'unexpected') {
    if (!waitingSaid) {
      console.log(
        `waiting for ${file} to hold a working database URL: create a file destination ` +
          `{"kind": "file", "path": "<path under FILE_DESTINATIONS_ROOT>", "format": "raw"} for the project`,
      );
      waitingSaid = true;
    }
    await sleep(3000);
    continue;
  }
  console.error(`Hasura refused the source: ${answer.status} ${answer.body.code ?? ''} ${answer.body.error ?? ''}`);
  process.exit(1);
}
