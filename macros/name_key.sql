{#- A name for matching: accents and punctuation stripped, lower case,
    tokens sorted, so 'Müller, Zoë' and 'zoe  muller' give 'muller zoe'. -#}
{% macro name_key(column) -%}
    nullif(
        array_to_string(
            list_sort(
                list_filter(
                    string_split(
                        regexp_replace(
                            lower(strip_accents(
                                replace(
                                    translate({{ column }}, 'ŁłØøĐđ', 'LlOoDd'),
                                    'ß', 'ss'
                                )
                            )),
                            '[^a-z ]', ' ', 'g'
                        ),
                        ' '
                    ),
                    token -> token <> ''
                )
            ),
            ' '
        ),
        ''
    )
{%- endmacro %}
