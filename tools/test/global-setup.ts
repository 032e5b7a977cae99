import { prepareTemplateDatabase } from '@hds/testkit';

/** Runs once before all test files: builds (or reuses) the migrated template database. */
export default async function setup(): Promise<void> {
  await prepareTemplateDatabase();
}
