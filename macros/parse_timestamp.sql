{#- The one parser for every timestamp and date column of the raw files.
    Accepts ISO 8601 (with or without `T`, seconds, `Z`, a UTC offset or a
    zone name after the time, converted to UTC; without one it is UTC) and
    the day-first formats DD/MM/YYYY, DD.MM.YYYY, YYYY/MM/DD, YYYYMMDD and
    `Month D, YYYY`, each with or without a time.
    Anything else (or an impossible date) gives null, and so do dates on or
    before 1900-01-01: placeholders ('1900-01-01', '0001-01-01',
    '-infinity') rather than real events or birth dates. -#}
{% macro parse_timestamp(column) -%}
    {#- Only a value that names its zone goes through the zone-aware cast: a
        zone name (`PST`, `Europe/Berlin`) in one value makes DuckDB (1.4,
        1.5) read the later zone-less values of the same 2,048-row vector in
        that zone. -#}
    {%- set zoned -%}
        regexp_matches(
            trim({{ column }}),
            '\d:\d\d(:\d\d(\.\d+)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?|[A-Za-z][A-Za-z_/+-]*)$'
        )
    {%- endset %}
    {%- set parsed -%}
        coalesce(
            case
                when {{ zoned }}
                    then try_cast(
                        try_cast(trim({{ column }}) as timestamptz)
                        at time zone 'UTC' as timestamp
                    )
                else try_cast(trim({{ column }}) as timestamp)
            end,
            try_strptime(
                trim({{ column }}),
                [
                    '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d/%m/%Y',
                    '%Y/%m/%d %H:%M:%S', '%Y/%m/%d %H:%M', '%Y/%m/%d',
                    '%d.%m.%Y %H:%M:%S', '%d.%m.%Y %H:%M', '%d.%m.%Y',
                    '%Y%m%d', '%B %d, %Y'
                ]
            )
        )
    {%- endset -%}
    case
        when {{ parsed }} >= timestamp '1900-01-02' then {{ parsed }}
    end
{%- endmacro %}
