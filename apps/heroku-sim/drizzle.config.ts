import { defineConfig } from 'drizzle-kit';

// heroku-sim's own tables (SIM_STATE_URL): `npm run db:generate -w @hds/heroku-sim` after changing the schema.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/persistence/schema.ts',
  out: './drizzle',
  schemaFilter: ['heroku_sim'],
});
