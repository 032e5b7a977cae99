ALTER TABLE "heroku_accounts" ADD COLUMN "rate_limited_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "heroku_accounts" ADD COLUMN "rate_limit_remaining" integer;--> statement-breakpoint
ALTER TABLE "heroku_accounts" ADD COLUMN "rate_limit_seen_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "project_env_vars" ADD COLUMN "value_fingerprint" text;--> statement-breakpoint
ALTER TABLE "project_env_vars" ADD COLUMN "value_redacted" text;