"""Store each case's customer with it (the line's, which never changes), then index what an agent
may see: their in-house cases, with the customer and line of each, read from the index alone."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FILL = """
UPDATE cases_case
   SET customer_id = (SELECT customer_id FROM accounts_creditline WHERE accounts_creditline.id = cases_case.credit_line_id)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_credit_line_charged_off"),
        ("cases", "0018_fewer_case_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="accounts.customer",
                verbose_name="customer",
            ),
        ),
        migrations.RunSQL(FILL, reverse_sql=migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="case",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cases",
                to="accounts.customer",
                verbose_name="customer",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("agency__isnull", True)),
                fields=["assignee", "customer", "credit_line", "id"],
                name="case_agent_scope",
            ),
        ),
    ]
