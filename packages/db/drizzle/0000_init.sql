CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"project_id" uuid NOT NULL,
	"link_id" uuid,
	"action" text NOT NULL,
	"var_name" text,
	"before_redacted" text,
	"after_redacted" text,
	"before_fingerprint" text,
	"after_fingerprint" text,
	"release_version" integer,
	"event_id" uuid,
	"actor" text NOT NULL,
	"detail" jsonb
);
--> statement-breakpoint
CREATE TABLE "heroku_accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"heroku_user_id" uuid NOT NULL,
	"email" text NOT NULL,
	"auth_type" text NOT NULL,
	"access_token_encrypted" text NOT NULL,
	"refresh_token_encrypted" text,
	"access_token_expires_at" timestamp with time zone,
	"scope" text,
	"token_generation" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "heroku_accounts_heroku_user_id_unique" UNIQUE("heroku_user_id")
);
--> statement-breakpoint
CREATE TABLE "heroku_links" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"account_id" uuid NOT NULL,
	"app_id" uuid NOT NULL,
	"app_name" text NOT NULL,
	"webhook_id" uuid,
	"mappings" jsonb NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"state" text DEFAULT 'active' NOT NULL,
	"last_error" text,
	"applied_version" integer DEFAULT 0 NOT NULL,
	"target_version" integer DEFAULT 0 NOT NULL,
	"last_synced_at" timestamp with time zone,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"next_reconcile_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_reconciled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "heroku_links_project_id_unique" UNIQUE("project_id")
);
--> statement-breakpoint
CREATE TABLE "project_env_vars" (
	"project_id" uuid NOT NULL,
	"name" text NOT NULL,
	"value_encrypted" text NOT NULL,
	"source" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "project_env_vars_project_id_name_pk" PRIMARY KEY("project_id","name")
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"event_id" uuid PRIMARY KEY NOT NULL,
	"link_id" uuid NOT NULL,
	"app_id" uuid NOT NULL,
	"release_version" integer NOT NULL,
	"action" text NOT NULL,
	"release_status" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone,
	"outcome" text,
	"attempts" integer DEFAULT 1 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "heroku_links" ADD CONSTRAINT "heroku_links_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "heroku_links" ADD CONSTRAINT "heroku_links_account_id_heroku_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."heroku_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_env_vars" ADD CONSTRAINT "project_env_vars_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_project_idx" ON "audit_log" USING btree ("project_id","id");--> statement-breakpoint
CREATE INDEX "heroku_links_reconcile_due_idx" ON "heroku_links" USING btree ("next_reconcile_at") WHERE "heroku_links"."enabled";--> statement-breakpoint
CREATE INDEX "heroku_links_account_idx" ON "heroku_links" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "webhook_events_link_idx" ON "webhook_events" USING btree ("link_id","release_version");