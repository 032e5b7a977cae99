import { projects, type DbOrTx } from '@hds/db';
import { desc, eq } from 'drizzle-orm';

export interface ProjectRow {
  id: string;
  name: string;
  createdAt: string;
}

const toView = (row: typeof projects.$inferSelect): ProjectRow => ({
  id: row.id,
  name: row.name,
  createdAt: row.createdAt.toISOString(),
});

export async function insertProject(db: DbOrTx, name: string): Promise<ProjectRow> {
  const [row] = await db.insert(projects).values({ name }).returning();
  if (!row) throw new Error('project insert returned nothing');
  return toView(row);
}

export async function findProject(db: DbOrTx, id: string): Promise<ProjectRow | undefined> {
  const [row] = await db.select().from(projects).where(eq(projects.id, id));
  return row && toView(row);
}

export async function listProjects(db: DbOrTx, options: { limit: number }): Promise<ProjectRow[]> {
  const rows = await db.select().from(projects).orderBy(desc(projects.createdAt)).limit(options.limit);
  return rows.map(toView);
}
