-- One row per Heroku event id and link: Heroku sends an event's id to every webhook of the app.
ALTER TABLE "webhook_events" DROP CONSTRAINT "webhook_events_pkey";--> statement-breakpoint
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_event_id_link_id_pk" PRIMARY KEY("event_id","link_id");
