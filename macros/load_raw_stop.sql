{#- Stops the run with one message: a headline and one line per problem.
    dbt's raise_dependency_error is used because it is the one raise of the
    Jinja context that prints just "Runtime Error" and the message, without
    the macro call stack that raise_compiler_error adds (this is bad input,
    not a compilation problem); it also masks secret environment values.
    Every line goes through load_raw_shown, so a file name or value with a
    line break or an escape sequence is shown escaped, on its own line. -#}
{% macro load_raw_stop(headline, problems) %}
    {%- set lines = [load_raw_shown(headline)] -%}
    {%- for problem in problems -%}
        {%- do lines.append("  - " ~ load_raw_shown(problem)) -%}
    {%- endfor -%}
    {%- do exceptions.raise_dependency_error(lines | join("\n")) -%}
{% endmacro %}
