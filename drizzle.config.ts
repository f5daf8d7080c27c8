import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './metadata/schema.ts',
  out: './migrations/pg',
});
