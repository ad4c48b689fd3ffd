# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible.builtin.template's lookup, reading the task's variables instead of deep-copying them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: template
author: streams.kafka maintainers (@streams-kafka)
version_added: 0.2.0
short_description: Render a role's template file with the task's variables, without copying them
description:
  - Renders each template file named in the terms, found in the role's or playbook's C(templates)
    directory as M(ansible.builtin.template) finds it, and returns the text.
  - The lookup C(ansible.builtin.template) deep-copies all of the task's variables for every file
    it renders. With the variables of a whole deployment that copy takes longer than the render
    itself. This lookup layers O(template_vars) over the task's variables instead; a template
    cannot change a variable, so the result is the same.
  - Unlike C(ansible.builtin.template) it does not set C(ansible_managed) or the C(template_*)
    variables, and it has no options for other delimiters.
options:
  _terms:
    description: The template files, relative to a C(templates) directory of the search path.
    type: list
    elements: str
    required: true
  template_vars:
    description: Variables the templates see in addition to the task's, taking precedence over them.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Render the broker configuration
  ansible.builtin.set_fact:
    kafka_files:
      server.properties: "{{ lookup('streams.kafka.template', 'server.properties.j2') }}"

- name: Render a worker's files with the worker as a variable
  ansible.builtin.set_fact:
    worker_objects: "{{ query('streams.kafka.template', 'deployment.yml.j2', 'service.yml.j2', template_vars={'worker': item}) }}"
"""

RETURN = r"""
_raw:
  description: The rendered text of each file, in the order of the terms.
  type: list
  elements: str
"""

import collections
import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.lookup import LookupBase

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19 trusts every string as a template
    def trust_as_template(value):
        return value


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        self.set_options(var_options=variables, direct=kwargs)
        layered = collections.ChainMap(dict(self.get_option("template_vars") or {}), variables)
        rendered = []
        for term in terms:
            path = self.find_file_in_search_path(variables, "templates", term)
            if not path:
                raise AnsibleError("the template file %s could not be found for the lookup" % term)
            # Jinja includes look in the template's own folder first, then in each search path and its templates folder.
            searchpath = [os.path.dirname(path)]
            for base in variables.get("ansible_search_path", []):
                searchpath.extend([os.path.join(base, "templates"), base])
            templar = self._templar.copy_with_new_env(available_variables=layered, searchpath=searchpath)
            rendered.append(templar.template(trust_as_template(self._read(path)), escape_backslashes=False))
        return rendered

    def _read(self, path):
        if hasattr(self._loader, "get_text_file_contents"):
            return self._loader.get_text_file_contents(path)
        data, _show_content = self._loader._get_file_contents(path)  # ansible-core before 2.19
        return to_text(data, errors="surrogate_or_strict")
