ALTER TABLE "heroku_accounts" ADD COLUMN "last_sweep_list_calls" integer;
