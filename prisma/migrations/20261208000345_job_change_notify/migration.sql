-- CreateIndex
CREATE INDEX "JobTask_jobId_updatedAt_id_idx" ON "JobTask"("jobId", "updatedAt", "id");

-- Live job feeds (lib/jobs/feed.ts) LISTEN on 'job_changes' instead of polling. The payload is the
-- job id only; the listener reads what changed itself. The triggers are per statement with a
-- transition table, so a bulk UPDATE of 10,000 tasks of one job sends one notification, not
-- 10,000; PostgreSQL also folds identical payloads of one transaction into one, and delivers them
-- at commit, so a listener that reads on a notification sees the change.
-- (PostgreSQL allows a transition table only on a trigger for a single event: one per event.)
CREATE FUNCTION "notify_job_task_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('job_changes', j."jobId"::text) FROM (SELECT DISTINCT "jobId" FROM changed_rows) j;
  RETURN NULL;
END $$;

CREATE FUNCTION "notify_job_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('job_changes', j.id::text) FROM (SELECT DISTINCT id FROM changed_rows) j;
  RETURN NULL;
END $$;

CREATE TRIGGER "JobTask_notify_insert" AFTER INSERT ON "JobTask" REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_job_task_changes"();
CREATE TRIGGER "JobTask_notify_update" AFTER UPDATE ON "JobTask" REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_job_task_changes"();
CREATE TRIGGER "Job_notify_insert" AFTER INSERT ON "Job" REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_job_changes"();
CREATE TRIGGER "Job_notify_update" AFTER UPDATE ON "Job" REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_job_changes"();
