"""Django learns the readings table (made by 0002's SQL) as a managed model, in its state
only: test flushes then truncate it together with the sensors it refers to. The foreign key
column and its ON DELETE CASCADE exist in the database already."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sensors", "0003_builtin_types")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterModelOptions(
                    name="reading",
                    options={"verbose_name": "reading", "verbose_name_plural": "readings"},
                ),
                migrations.AddField(
                    model_name="reading",
                    name="sensor",
                    field=models.ForeignKey(
                        default=None,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="sensors.sensor",
                    ),
                    preserve_default=False,
                ),
            ],
            database_operations=[],
        )
    ]
