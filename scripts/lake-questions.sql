-- The questions a course team asks, answered from the lake through the typed views that
-- edlake keeps in its DuckDB catalog (docs/query-locally.md). Each view has the columns and
-- types of its Athena view, and one row per source row: the views of incrementally
-- extracted tables keep only the latest version of each row.
--
--   duckdb -init datalake/openedx.duckdb.sql < scripts/lake-questions.sql
--
-- The demo (scripts/demo.sh) ends with these; tests/lake_questions.rs asks MySQL the same
-- questions and checks every answer.

-- 1. How many learners does each course have? Every enrollment ever made, the ones still
--    active (a learner who unenrolls keeps a row, with is_active false), and the active
--    ones on the verified track.
SELECT
  course_id,
  count(*) AS enrollments,
  count(*) FILTER (WHERE is_active) AS active,
  count(*) FILTER (WHERE is_active AND mode = 'verified') AS verified
FROM openedx_table_student_courseenrollment
GROUP BY course_id
ORDER BY enrollments DESC, course_id;

-- 2. How are the learners doing? Per course: the learners with a course grade, their
--    average grade in percent (percent_grade is 0 to 1) and how many have passed.
SELECT
  course_id,
  count(*) AS graded,
  round(100 * avg(percent_grade), 1) AS avg_grade_pct,
  count(passed_timestamp) AS passed
FROM openedx_table_grades_persistentcoursegrade
GROUP BY course_id
ORDER BY graded DESC, course_id;

-- 3. How do they score on problems? Per course, from the learners' answers
--    (courseware_studentmodule rows with a maximum grade): how many answers, from how many
--    learners, and the average score in percent of the maximum.
SELECT
  course_id,
  count(*) AS answers,
  count(DISTINCT student_id) AS learners,
  round(100 * avg(grade / max_grade), 1) AS avg_score_pct
FROM openedx_table_courseware_studentmodule
WHERE max_grade > 0
GROUP BY course_id
ORDER BY answers DESC, course_id;

-- 4. How active is the site? Tracking events per day (UTC, the day of each event's time)
--    and how many distinct users they came from. (The view's own year, month and day
--    columns are its partitions, the same UTC day as text.)
SELECT
  CAST("time" AS DATE) AS utc_day,
  count(*) AS events,
  count(DISTINCT username) AS users
FROM openedx_table_tracking_logs
GROUP BY utc_day
ORDER BY utc_day;
