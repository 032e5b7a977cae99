CREATE TABLE "webhook_cleanups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"link_id" uuid NOT NULL,
	"account_id" uuid NOT NULL,
	"app_id" uuid NOT NULL,
	"webhook_id" uuid NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "heroku_accounts" ADD COLUMN "refresh_owner" text;--> statement-breakpoint
ALTER TABLE "heroku_accounts" ADD COLUMN "refresh_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "heroku_links" ADD COLUMN "applied_mappings" jsonb;--> statement-breakpoint
ALTER TABLE "heroku_links" ADD COLUMN "change_owner" text;--> statement-breakpoint
ALTER TABLE "heroku_links" ADD COLUMN "change_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_cleanups" ADD CONSTRAINT "webhook_cleanups_link_id_heroku_links_id_fk" FOREIGN KEY ("link_id") REFERENCES "public"."heroku_links"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_cleanups" ADD CONSTRAINT "webhook_cleanups_account_id_heroku_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."heroku_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "webhook_cleanups_link_idx" ON "webhook_cleanups" USING btree ("link_id");--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_action_check" CHECK ("audit_log"."action" in ('env_synced', 'env_set', 'sync_enabled', 'sync_disabled', 'mappings_changed', 'state_changed', 'webhook_created', 'webhook_recreated', 'webhook_secret_rotated', 'webhook_delete_failed', 'webhook_deleted'));