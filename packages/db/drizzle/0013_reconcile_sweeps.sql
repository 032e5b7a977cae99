ALTER TABLE "heroku_accounts" ADD COLUMN "sweep_tokens" double precision;--> statement-breakpoint
ALTER TABLE "heroku_accounts" ADD COLUMN "sweep_tokens_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "heroku_accounts" ADD COLUMN "last_sweep_calls" integer;--> statement-breakpoint
ALTER TABLE "heroku_accounts" ADD COLUMN "last_swept_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "heroku_accounts" ADD COLUMN "sweep_claimed_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "heroku_links" ADD COLUMN "released_at_seen" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "heroku_links" ADD COLUMN "webhook_check_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "heroku_links" ADD COLUMN "webhook_suspect_since" timestamp with time zone;
