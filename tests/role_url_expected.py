"""What every role gets when it GETs each admin and API URL: the table ``tests/test_role_url_matrix.py`` holds them to.

One line a URL (its pattern, with ids as ``<name>``, and whose row it is when only some roles see it),
one column a role. A new URL fails the test until its line is added here: copy it from
``test-artifacts/role_url_matrix.md`` after reading what each role gets.
"""

EXPECTED = """
| URL                                                                     | agent | agency | legal | supervisor | manager | superuser | anonymous |
|-------------------------------------------------------------------------|---|---|---|---|---|---|---|
| /admin/                                                                 | →/admin/cases/mycase/ | 200    | 200   | →/admin/reports/dashboard/ | →/admin/reports/dashboard/ | 200       | login     |
| /admin/ledger-import/                                                   | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/ledger-import/confirm/                                           | 405   | 405    | 405   | 405        | 405     | 405       | login     |
| /admin/second-factor/                                                   | 200   | 200    | 200   | 200        | 200     | 200       | login     |
| /admin/reconciliation/                                                  | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/reports/                                                         | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/reports/dashboard/                                               | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/reports/commission/                                              | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/reports/compliance/                                              | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/reports/entry-rate/                                              | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/reports/flow-rates/                                              | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/reports/inventory/                                               | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/reports/letters/                                                 | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/reports/people/                                                  | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/reports/recovery/                                                | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/reports/vintage/                                                 | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/password_change/                                                 | 200   | 200    | 200   | 200        | 200     | 200       | login     |
| /admin/password_change/done/                                            | 200   | 200    | 200   | 200        | 200     | 200       | login     |
| /admin/autocomplete/                                                    | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/jsi18n/                                                          | 200   | 200    | 200   | 200        | 200     | 200       | login     |
| /admin/otp_totp/totpdevice/                                             | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/otp_totp/totpdevice/add/                                         | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/backoffice/apiclient/                                            | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/backoffice/apiclient/add/                                        | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/backoffice/apiclient/<object_id>/history/                        | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/backoffice/apiclient/<object_id>/delete/                         | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/backoffice/apiclient/<object_id>/change/                         | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/backoffice/changeproposal/<object_id>/decide/approve/            | 404   | 404    | 403   | 404        | 404     | 403       | login     |
| /admin/backoffice/changeproposal/                                       | 403   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/backoffice/changeproposal/add/                                   | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/backoffice/changeproposal/<object_id>/history/                   | →/admin/ | →/admin/ | 200   | →/admin/   | →/admin/ | 200       | login     |
| /admin/backoffice/changeproposal/<object_id>/delete/                    | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/backoffice/changeproposal/<object_id>/change/                    | 404   | 404    | 200   | 404        | 404     | 200       | login     |
| /admin/backoffice/signinfailure/                                        | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/backoffice/signinfailure/add/                                    | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/backoffice/webhooksubscription/                                  | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/backoffice/webhooksubscription/add/                              | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/backoffice/webhookdelivery/                                      | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/backoffice/webhookdelivery/add/                                  | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/backoffice/dashboardthreshold/                                   | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/backoffice/dashboardthreshold/add/                               | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/auth/user/<id>/password/                                         | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/auth/user/                                                       | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/auth/user/add/                                                   | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/auth/user/<object_id>/history/                                   | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/auth/user/<object_id>/delete/                                    | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/auth/user/<object_id>/change/                                    | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/auth/group/                                                      | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/auth/group/add/                                                  | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/auth/group/<object_id>/history/                                  | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/auth/group/<object_id>/delete/                                   | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/auth/group/<object_id>/change/                                   | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/accounts/customer/                                               | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/customer/add/                                           | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/accounts/customer/<object_id>/history/                           | 403   | 404    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/customer/<object_id>/history/ another's                 | 404   | 404    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/customer/<object_id>/delete/                            | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/accounts/customer/<object_id>/delete/ another's                  | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/accounts/customer/<object_id>/change/                            | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/customer/<object_id>/change/ another's                  | →/admin/ | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/product/                                                | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/product/add/                                            | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/accounts/product/<object_id>/history/                            | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/product/<object_id>/delete/                             | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/accounts/product/<object_id>/change/                             | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/creditline/                                             | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/creditline/add/                                         | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/creditline/<object_id>/history/                         | 200   | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/creditline/<object_id>/history/ another's               | →/admin/ | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/creditline/<object_id>/delete/                          | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/creditline/<object_id>/delete/ another's                | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/creditline/<object_id>/change/                          | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/creditline/<object_id>/change/ another's                | →/admin/ | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/bill/                                                   | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/bill/add/                                               | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/bill/<object_id>/history/                               | 200   | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/bill/<object_id>/history/ another's                     | →/admin/ | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/bill/<object_id>/delete/                                | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/bill/<object_id>/delete/ another's                      | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/bill/<object_id>/change/                                | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/bill/<object_id>/change/ another's                      | →/admin/ | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/paymentallocation/                                      | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/paymentallocation/add/                                  | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/paymentallocation/<object_id>/history/                  | 200   | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/paymentallocation/<object_id>/history/ another's        | →/admin/ | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/paymentallocation/<object_id>/delete/                   | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/paymentallocation/<object_id>/delete/ another's         | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/paymentallocation/<object_id>/change/                   | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/paymentallocation/<object_id>/change/ another's         | →/admin/ | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/payment/                                                | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/payment/add/                                            | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/payment/<object_id>/history/                            | 200   | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/payment/<object_id>/history/ another's                  | →/admin/ | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/payment/<object_id>/delete/                             | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/payment/<object_id>/delete/ another's                   | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/payment/<object_id>/change/                             | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/payment/<object_id>/change/ another's                   | →/admin/ | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/accounts/personaldatareveal/                                     | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/accounts/personaldatareveal/add/                                 | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/personaldatareveal/<object_id>/history/                 | 403   | →/admin/ | 403   | 200        | 200     | 200       | login     |
| /admin/accounts/personaldatareveal/<object_id>/delete/                  | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/personaldatareveal/<object_id>/change/                  | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/agency/<object_id>/history/<version_id>/                   | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/agency/                                                    | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/agency/add/                                                | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/agency/<object_id>/history/                                | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/agency/<object_id>/delete/                                 | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/agency/<object_id>/change/                                 | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/placement/                                                 | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/placement/add/                                             | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/placement/<object_id>/history/                             | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/placement/<object_id>/delete/                              | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/placement/<object_id>/change/                              | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/contact/import/                                            | 200   | 200    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/contact/                                                   | 200   | 200    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/contact/add/                                               | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/contact/<object_id>/history/                               | 200   | →/admin/ | 403   | 200        | 200     | 200       | login     |
| /admin/cases/contact/<object_id>/history/ the agency's                  | →/admin/ | 200    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/contact/<object_id>/history/ another's                     | →/admin/ | →/admin/ | 403   | 200        | 200     | 200       | login     |
| /admin/cases/contact/<object_id>/delete/                                | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/contact/<object_id>/delete/ the agency's                   | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/contact/<object_id>/delete/ another's                      | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/contact/<object_id>/change/                                | 200   | →/admin/ | 403   | 200        | 200     | 200       | login     |
| /admin/cases/contact/<object_id>/change/ the agency's                   | →/admin/ | 200    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/contact/<object_id>/change/ another's                      | →/admin/ | →/admin/ | 403   | 200        | 200     | 200       | login     |
| /admin/cases/rulepack/                                                  | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/rulepack/add/                                              | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/cases/rulepack/<object_id>/history/                              | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/rulepack/<object_id>/delete/                               | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/rulepack/<object_id>/change/                               | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/complianceincident/                                        | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/complianceincident/add/                                    | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/complianceincident/<object_id>/history/                    | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/complianceincident/<object_id>/delete/                     | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/complianceincident/<object_id>/change/                     | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/contactrefusal/                                            | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/contactrefusal/add/                                        | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/contactrefusal/<object_id>/history/                        | 403   | →/admin/ | 403   | 200        | 200     | 200       | login     |
| /admin/cases/contactrefusal/<object_id>/delete/                         | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/contactrefusal/<object_id>/change/                         | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/prohibitedphraselist/                                      | 403   | 403    | 200   | 403        | 403     | 200       | login     |
| /admin/cases/prohibitedphraselist/add/                                  | 403   | 403    | 200   | 403        | 403     | 200       | login     |
| /admin/cases/prohibitedphraselist/<object_id>/history/                  | 403   | 403    | 200   | 403        | 403     | 200       | login     |
| /admin/cases/prohibitedphraselist/<object_id>/delete/                   | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/prohibitedphraselist/<object_id>/change/                   | 403   | 403    | 200   | 403        | 403     | 200       | login     |
| /admin/cases/promise/                                                   | 200   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/promise/<object_id>/change/                                | 200   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/promise/<object_id>/change/ another's                      | →/admin/ | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/promise/<object_id>/delete/                                | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/promise/<object_id>/delete/ another's                      | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/promise/<object_id>/history/                               | 200   | →/admin/ | 403   | 200        | 200     | 200       | login     |
| /admin/cases/promise/<object_id>/history/ another's                     | →/admin/ | →/admin/ | 403   | 200        | 200     | 200       | login     |
| /admin/cases/promise/add/                                               | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/proposal/                                                  | 200   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/proposal/add/                                              | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/mycase/next/                                               | →/admin/cases/case/N/change/ | →/admin/cases/case/N/change/ | 403   | →/admin/cases/mycase/ | →/admin/cases/mycase/ | →/admin/cases/mycase/ | login     |
| /admin/cases/mycase/                                                    | 200   | 200    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/mycase/add/                                                | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/mycase/<object_id>/history/                                | 200   | →/admin/ | →/admin/ | →/admin/   | →/admin/ | →/admin/  | login     |
| /admin/cases/mycase/<object_id>/history/ the agency's                   | →/admin/ | 200    | →/admin/ | →/admin/   | →/admin/ | →/admin/  | login     |
| /admin/cases/mycase/<object_id>/delete/                                 | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/mycase/<object_id>/delete/ the agency's                    | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/mycase/<object_id>/change/                                 | 200   | →/admin/ | 403   | →/admin/   | →/admin/ | →/admin/  | login     |
| /admin/cases/mycase/<object_id>/change/ the agency's                    | →/admin/ | 200    | 403   | →/admin/   | →/admin/ | →/admin/  | login     |
| /admin/cases/team/<object_id>/history/<version_id>/                     | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/team/                                                      | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/team/add/                                                  | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/team/<object_id>/history/                                  | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/team/<object_id>/delete/                                   | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/cases/team/<object_id>/change/                                   | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/caseassignment/                                            | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/caseassignment/add/                                        | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/caseassignment/<object_id>/history/                        | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/caseassignment/<object_id>/delete/                         | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/caseassignment/<object_id>/change/                         | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/move/escalate_to_collection/              | 403   | 404    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/case/<object_id>/move/escalate_to_collection/ the agency's | 404   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/move/escalate_to_collection/ another's    | 404   | 404    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/case/<object_id>/reveal/national_id/                       | 200   | 404    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/reveal/national_id/ the agency's          | 404   | 200    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/reveal/national_id/ another's             | 404   | 404    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/contact/                                  | 200   | 404    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/contact/ the agency's                     | 404   | 200    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/contact/ another's                        | 404   | 404    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/promise/                                  | 200   | 404    | 403   | 403        | 403     | 200       | login     |
| /admin/cases/case/<object_id>/promise/ the agency's                     | 404   | 200    | 403   | 403        | 403     | 200       | login     |
| /admin/cases/case/<object_id>/promise/ another's                        | 404   | 404    | 403   | 403        | 403     | 200       | login     |
| /admin/cases/case/<object_id>/letter/                                   | 200   | 404    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/letter/ the agency's                      | 404   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/letter/ another's                         | 404   | 404    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/propose/                                  | 200   | 404    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/propose/ the agency's                     | 404   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/propose/ another's                        | 404   | 404    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/case/<object_id>/place/                                    | 403   | 404    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/place/ the agency's                       | 404   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/place/ another's                          | 404   | 404    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/recall/                                   | 403   | 404    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/recall/ the agency's                      | 404   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/recall/ another's                         | 404   | 404    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/case/                                                      | 200   | 200    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/case/add/                                                  | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/case/<object_id>/history/                                  | 200   | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/history/ the agency's                     | →/admin/ | 200    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/history/ another's                        | →/admin/ | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/delete/                                   | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/case/<object_id>/delete/ the agency's                      | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/case/<object_id>/delete/ another's                         | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/case/<object_id>/change/                                   | 200   | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/change/ the agency's                      | →/admin/ | 200    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/case/<object_id>/change/ another's                         | →/admin/ | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/cases/casetransition/                                            | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/casetransition/add/                                        | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/casetransition/<object_id>/history/                        | 200   | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/cases/casetransition/<object_id>/history/ another's              | →/admin/ | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/cases/casetransition/<object_id>/delete/                         | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/casetransition/<object_id>/delete/ another's               | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/casetransition/<object_id>/change/                         | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/casetransition/<object_id>/change/ another's               | →/admin/ | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/dunningpolicy/                                             | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/dunningpolicy/add/                                         | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/cases/dunningpolicy/<object_id>/history/                         | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/dunningpolicy/<object_id>/delete/                          | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/dunningpolicy/<object_id>/change/                          | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/dunningrun/                                                | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/dunningrun/add/                                            | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/dunningrun/<object_id>/history/                            | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/dunningrun/<object_id>/delete/                             | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/dunningrun/<object_id>/change/                             | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/messagetemplate/<pk>/activate/                             | 403   | 403    | 200   | 403        | 403     | 200       | login     |
| /admin/cases/messagetemplate/                                           | 403   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/messagetemplate/add/                                       | 403   | 403    | 200   | 403        | 403     | 200       | login     |
| /admin/cases/messagetemplate/<object_id>/history/                       | 403   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/messagetemplate/<object_id>/delete/                        | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/messagetemplate/<object_id>/change/                        | 403   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/message/                                                   | 200   | 200    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/message/add/                                               | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/message/<object_id>/history/                               | 200   | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/cases/message/<object_id>/history/ the agency's                  | →/admin/ | 200    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/message/<object_id>/history/ another's                     | →/admin/ | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/cases/message/<object_id>/delete/                                | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/message/<object_id>/delete/ the agency's                   | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/message/<object_id>/delete/ another's                      | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/cases/message/<object_id>/change/                                | 200   | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/cases/message/<object_id>/change/ the agency's                   | →/admin/ | 200    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/message/<object_id>/change/ another's                      | →/admin/ | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/letters/lawfirm/                                                 | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/letters/lawfirm/add/                                             | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/letters/lawfirm/<object_id>/history/                             | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/letters/lawfirm/<object_id>/delete/                              | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/letters/lawfirm/<object_id>/change/                              | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/letters/lettertemplate/<pk>/preview/                             | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/letters/lettertemplate/                                          | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/letters/lettertemplate/add/                                      | 403   | 403    | 200   | 403        | 403     | 200       | login     |
| /admin/letters/lettertemplate/<object_id>/history/                      | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/letters/lettertemplate/<object_id>/delete/                       | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/letters/lettertemplate/<object_id>/change/                       | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/letters/letter/<pk>/pdf/                                         | 200   | 404    | 200   | 200        | 200     | 200       | login     |
| /admin/letters/letter/<pk>/act/approve/                                 | →/admin/letters/letter/N/change/ | 404    | →/admin/letters/letter/N/change/ | →/admin/letters/letter/N/change/ | →/admin/letters/letter/N/change/ | →/admin/letters/letter/N/change/ | login     |
| /admin/letters/letter/                                                  | 200   | 403    | 200   | 200        | 200     | 200       | login     |
| /admin/letters/letter/add/                                              | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/letters/letter/<object_id>/history/                              | 200   | →/admin/ | 200   | 200        | 200     | 200       | login     |
| /admin/letters/letter/<object_id>/delete/                               | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/letters/letter/<object_id>/change/                               | 200   | 404    | 200   | 200        | 200     | 200       | login     |
| /admin/letters/letterawaitingapproval/                                  | 403   | 403    | 200   | 403        | 403     | 200       | login     |
| /admin/letters/letterawaitingapproval/add/                              | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/accounts/                                                        | 200   | 404    | 200   | 200        | 200     | 200       | login     |
| /admin/auth/                                                            | 404   | 404    | 404   | 404        | 404     | 200       | login     |
| /admin/backoffice/                                                      | 404   | 404    | 200   | 200        | 200     | 200       | login     |
| /admin/cases/                                                           | 200   | 200    | 200   | 200        | 200     | 200       | login     |
| /admin/letters/                                                         | 200   | 404    | 200   | 200        | 200     | 200       | login     |
| /admin/otp_totp/                                                        | 404   | 404    | 404   | 404        | 404     | 200       | login     |
| /api/v1/customers/                                                      | 200   | 403    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/customers/<pk>/                                                 | 200   | 403    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/customers/<pk>/ the agency's                                    | 404   | 403    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/customers/<pk>/ another's                                       | 404   | 403    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/credit-lines/                                                   | 200   | 403    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/credit-lines/<number>/                                          | 200   | 403    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/credit-lines/<number>/ the agency's                             | 404   | 403    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/credit-lines/<number>/ another's                                | 404   | 403    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/credit-lines/<number>/bills/                                    | 200   | 403    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/credit-lines/<number>/bills/ the agency's                       | 404   | 403    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/credit-lines/<number>/bills/ another's                          | 404   | 403    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/payments/                                                       | 405   | 405    | 405   | 405        | 405     | 405       | 401       |
| /api/v1/payments/reversals/                                             | 405   | 405    | 405   | 405        | 405     | 405       | 401       |
| /api/v1/cases/                                                          | 200   | 200    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/cases/<pk>/                                                     | 200   | 404    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/cases/<pk>/ the agency's                                        | 404   | 200    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/cases/<pk>/ another's                                           | 404   | 404    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/contacts/                                                       | 405   | 405    | 405   | 405        | 405     | 405       | 401       |
| /api/v1/letters/                                                        | 200   | 403    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/letters/<number>/                                               | 200   | 403    | 200   | 200        | 200     | 200       | 401       |
| /api/v1/letters/<number>/pdf/                                           | 403   | 403    | 403   | 403        | 403     | 403       | 401       |
| /api/v1/events/                                                         | 403   | 403    | 403   | 403        | 403     | 200       | 401       |
| /api/v1/reconciliation/                                                 | 403   | 403    | 403   | 200        | 200     | 200       | 401       |
| /api/v1/schema/                                                         | 200   | 200    | 200   | 200        | 200     | 200       | 200       |
| /api/v1/docs/                                                           | 200   | 200    | 200   | 200        | 200     | 200       | 200       |
| /admin/django_celery_beat/periodictask/                                 | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/django_celery_beat/periodictask/add/                             | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/django_celery_beat/periodictask/<object_id>/history/             | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/django_celery_beat/periodictask/<object_id>/delete/              | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/django_celery_beat/periodictask/<object_id>/change/              | 403   | 403    | 403   | 200        | 200     | 200       | login     |
| /admin/django_celery_beat/crontabschedule/                              | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/django_celery_beat/crontabschedule/add/                          | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/django_celery_beat/crontabschedule/<object_id>/history/          | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/django_celery_beat/crontabschedule/<object_id>/delete/           | 403   | 403    | 403   | 403        | 403     | 403       | login     |
| /admin/django_celery_beat/crontabschedule/<object_id>/change/           | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/django_celery_beat/intervalschedule/                             | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/django_celery_beat/intervalschedule/add/                         | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/django_celery_beat/solarschedule/                                | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/django_celery_beat/solarschedule/add/                            | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/django_celery_beat/clockedschedule/                              | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/django_celery_beat/clockedschedule/add/                          | 403   | 403    | 403   | 403        | 403     | 200       | login     |
| /admin/django_celery_beat/                                              | 404   | 404    | 404   | 200        | 200     | 200       | login     |
"""
