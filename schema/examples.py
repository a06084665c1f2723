"""Example operations: shown in GraphiQL by the demo, used by the README, tests and benchmarks."""

PROFILE_QUERY = """\
# The unified credit profile of one subject. Put a sample id printed by
# `credit-gateway demo` into the variables below, then press the run button.
# Officials (Authorization: Bearer <token>) also set `matter`, a catalogued administrative
# matter of their department (see `matters`); the public needs none.
query Profile($id: ID!, $matter: ID) {
  subject(id: $id, matter: $matter) {
    id
    kind
    name
    environment {
      grades { value label assessedOn }
      penalties {
        documentNumber violationType fineAmount decisionDate severity
        publicity { until state }
      }
      licences { licenceKind certificateNumber validTo }
    }
    quality {
      inspections { item result inspectedOn failedItems }
      penalties { documentNumber violationType severity decisionDate publicity { state } }
    }
    health {
      licences { licenceKind certificateName validTo }
      penalties { documentNumber violationType severity decisionDate publicity { state } }
      industryBans { industry startsOn endsOn reason }
    }
    commerce {
      registration { name enterpriseType status establishedOn legalRepresentative { name } }
      listEntries { listName category enteredOn current }
    }
    lists { department listName category enteredOn exitedOn current reason }
    grades { department scheme value label }
    sources { department status fromCache ageSeconds latencyMs message }
  }
}
"""
