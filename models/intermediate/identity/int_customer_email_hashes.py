"""Keyed hash of each resolved customer's email (crm_analytics.pii): the
only trace of the email that reaches the serving file."""

import pandas as pd

from crm_analytics.frames import as_arrow, read_frame
from crm_analytics.pii import hash_key, keyed_hashes


def model(dbt, session):
    dbt.config(materialized="table")
    key = hash_key()
    customers = read_frame(
        dbt.ref("int_customer_profiles").project("customer_id, email")
    )
    # A string dtype keeps the column text when no customer has an email.
    customers["email_hash"] = pd.array(
        keyed_hashes(customers["email"].tolist(), key), dtype="string"
    )
    return as_arrow(customers[["customer_id", "email_hash"]])
