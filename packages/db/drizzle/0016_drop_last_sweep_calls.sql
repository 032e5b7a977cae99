ALTER TABLE "heroku_accounts" DROP COLUMN "last_sweep_calls";
