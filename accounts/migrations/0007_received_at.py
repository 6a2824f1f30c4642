import datetime
import zoneinfo

import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models


def backfill(apps, schema_editor):
    """When the rows already here came in, as near as the records tell (new rows get the time they are saved).

    A bill: the time of its creation record in its history (exact), else the migration's time. A credit
    line keeps no record of its arrival: the start of its opening day (in TIME_ZONE), but never before
    its customer came in (a portfolio loaded at once came in when it was loaded).
    """
    connection = schema_editor.connection
    bill = apps.get_model("accounts", "Bill")._meta.db_table
    history = apps.get_model("accounts", "HistoricalBill")._meta.db_table
    line = apps.get_model("accounts", "CreditLine")
    customer = apps.get_model("accounts", "Customer")._meta.db_table
    schema_editor.execute(
        f"UPDATE {bill} SET created_at = COALESCE((SELECT MIN(h.history_date) FROM {history} h"
        f" WHERE h.id = {bill}.id AND h.history_type = '+'), created_at)"
    )
    table = line._meta.db_table
    if connection.vendor == "postgresql":
        schema_editor.execute(
            f"UPDATE {table} SET created_at = GREATEST(({table}.opened_on::timestamp AT TIME ZONE %s), c.created_at)"
            f" FROM {customer} c WHERE c.id = {table}.customer_id",
            [settings.TIME_ZONE],
        )
        return
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    for day in line.objects.order_by().values_list("opened_on", flat=True).distinct():
        start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
        schema_editor.execute(
            f"UPDATE {table} SET created_at = MAX(%s, (SELECT c.created_at FROM {customer} c"
            f" WHERE c.id = {table}.customer_id)) WHERE opened_on = %s",
            [connection.ops.adapt_datetimefield_value(start), connection.ops.adapt_datefield_value(day)],
        )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_payment_reversal'),
    ]

    operations = [
        migrations.AddField(
            model_name='bill',
            name='created_at',
            field=models.DateTimeField(auto_now_add=True, db_default=django.db.models.functions.datetime.Now(), help_text='When the bill came in.', verbose_name='received at'),
        ),
        migrations.AddField(
            model_name='creditline',
            name='created_at',
            field=models.DateTimeField(auto_now_add=True, db_default=django.db.models.functions.datetime.Now(), help_text='When the line came in.', verbose_name='received at'),
        ),
        migrations.AddField(
            model_name='historicalbill',
            name='created_at',
            field=models.DateTimeField(blank=True, db_default=django.db.models.functions.datetime.Now(), editable=False, help_text='When the bill came in.', verbose_name='received at'),
        ),
        migrations.AlterField(
            model_name='historicalpayment',
            name='recorded_at',
            field=models.DateTimeField(blank=True, editable=False, help_text='When the payment came in; the reconciliation counts payments by it, not by the time received.', verbose_name='recorded at'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='recorded_at',
            field=models.DateTimeField(auto_now_add=True, help_text='When the payment came in; the reconciliation counts payments by it, not by the time received.', verbose_name='recorded at'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='bill',
            index=models.Index(fields=['created_at'], name='bill_created_at'),
        ),
        migrations.AddIndex(
            model_name='creditline',
            index=models.Index(fields=['created_at'], name='credit_line_created_at'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(fields=['created_at'], name='customer_created_at'),
        ),
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(fields=['recorded_at', 'amount_fen'], name='payment_recorded_at'),
        ),
    ]
