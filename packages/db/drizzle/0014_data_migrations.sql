CREATE TABLE "data_migrations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"link_id" uuid NOT NULL,
	"target_url_encrypted" text NOT NULL,
	"target_redacted" text NOT NULL,
	"cutover" boolean DEFAULT false NOT NULL,
	"maintenance" boolean DEFAULT false NOT NULL,
	"state" text DEFAULT 'queued' NOT NULL,
	"tables" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"bytes_copied" bigint DEFAULT 0 NOT NULL,
	"bytes_total" bigint DEFAULT 0 NOT NULL,
	"target_baseline" jsonb,
	"maintenance_on" boolean DEFAULT false NOT NULL,
	"cancel_requested" boolean DEFAULT false NOT NULL,
	"error" text,
	"cutover_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "data_migrations_state_check" CHECK ("data_migrations"."state" in ('queued', 'preflight', 'schema', 'copying', 'constraints', 'verifying', 'cutover', 'done', 'failed', 'cancelled'))
);
--> statement-breakpoint
ALTER TABLE "audit_log" DROP CONSTRAINT "audit_log_action_check";--> statement-breakpoint
ALTER TABLE "data_migrations" ADD CONSTRAINT "data_migrations_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "data_migrations" ADD CONSTRAINT "data_migrations_link_id_heroku_links_id_fk" FOREIGN KEY ("link_id") REFERENCES "public"."heroku_links"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "data_migrations_project_idx" ON "data_migrations" USING btree ("project_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "data_migrations_one_active_idx" ON "data_migrations" USING btree ("project_id") WHERE "data_migrations"."state" not in ('done', 'failed', 'cancelled');--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_action_check" CHECK ("audit_log"."action" in ('env_synced', 'env_set', 'sync_enabled', 'sync_disabled', 'mappings_changed', 'state_changed', 'webhook_created', 'webhook_recreated', 'webhook_secret_rotated', 'webhook_delete_failed', 'webhook_deleted', 'destination_created', 'destination_deleted', 'destination_disabled', 'deliveries_redelivered', 'token_created', 'token_revoked', 'env_revealed', 'env_cutover', 'migration_started', 'migration_cancelled'));
