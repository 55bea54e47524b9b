{#- Final say on every raw row. `relation` has `dq_reason` (null when the row
    passed every check) and the key columns. Adds `row_status`:
      quarantined  dq_reason is set;
      merged       a valid row whose key another valid row also has and that
                   row ranks first by `order_by` (the latest version wins);
      kept         everything else: exactly one row per key.
    Merged rows get dq_reason 'duplicate'. -#}
{% macro triage_rows(relation, key_columns, order_by) -%}
    select
        * exclude (dq_reason),
        case
            when dq_reason is not null then 'quarantined'
            when row_number() over (
                partition by dq_reason is null, {{ key_columns | join(', ') }}
                order by {{ order_by }}
            ) > 1 then 'merged'
            else 'kept'
        end as row_status,
        case
            when dq_reason is not null then dq_reason
            when row_number() over (
                partition by dq_reason is null, {{ key_columns | join(', ') }}
                order by {{ order_by }}
            ) > 1 then 'duplicate'
        end as dq_reason
    from {{ relation }}
{%- endmacro %}
