import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './migrations/schema.ts',
  out: './migrations/pg',
});
