"""The readings time series and the indexes fire response runs on, which the ORM cannot
declare.

Readings: a table partitioned by month on the reading's time. A primary key on (sensor,
time) in every partition makes a resent reading a no-op (ON CONFLICT DO NOTHING) and serves a
sensor's series; a BRIN index on time serves time ranges at a tiny size, since rows arrive
roughly in time order. Partitions are created ahead and dropped after the retention period by
`sensors.services.readings` (no default partition: a row outside every partition is an
error, never silently kept).

Fire response measures on the spheroid, so the nearest-water and within-distance look-ups
run on functional GiST indexes of `location::geography`, one partial index per role: the 58
water tanks of a street are found without walking 500,000 detectors.
"""

from django.db import migrations

SQL = """
CREATE TABLE sensors_reading (
    sensor_id bigint NOT NULL REFERENCES sensors_sensor (id) ON DELETE CASCADE
        DEFERRABLE INITIALLY DEFERRED,
    at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    "values" jsonb NOT NULL,
    PRIMARY KEY (sensor_id, at)
) PARTITION BY RANGE (at);
CREATE INDEX sensors_reading_at_brin ON sensors_reading USING brin (at);
CREATE INDEX sensor_tank_geog ON sensors_sensor USING gist ((location::geography))
    WHERE role = 'water_tank';
CREATE INDEX sensor_pole_geog ON sensors_sensor USING gist ((location::geography))
    WHERE role = 'voice_pole';
CREATE INDEX sensor_camera_geog ON sensors_sensor USING gist ((location::geography))
    WHERE role = 'camera';
"""

REVERSE = """
DROP INDEX IF EXISTS sensor_camera_geog;
DROP INDEX IF EXISTS sensor_pole_geog;
DROP INDEX IF EXISTS sensor_tank_geog;
DROP TABLE IF EXISTS sensors_reading;
"""


class Migration(migrations.Migration):
    dependencies = [("sensors", "0001_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
