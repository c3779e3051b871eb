-- Run once by the postgres container (docker-compose.yml): the Prefect database and the extensions
-- the sohoa catalog and Prefect's migrations use.
CREATE DATABASE prefect OWNER sohoa;
\c sohoa
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
\c prefect
CREATE EXTENSION IF NOT EXISTS pg_trgm;
