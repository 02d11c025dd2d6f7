"""List, delete or export the enrolled operators.

mmchat operators list
mmchat operators delete alice
mmchat operators export [--out operators.json]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys
import time

from mmchat_ros.auth.store import STORE_ENV, EnrolmentStore, StoreError, default_store_path

HELP = 'list, delete or export the enrolled operators (embeddings only)'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `mmchat operators`."""
    parser.add_argument('--store', type=Path, default=None,
                        help=f'enrolment store (default: ${STORE_ENV} or {default_store_path()})')
    actions = parser.add_subparsers(dest='action', required=True)
    actions.add_parser('list', help='operators and how many face / voice embeddings each has')
    delete = actions.add_parser('delete', help='remove an operator and all of their embeddings')
    delete.add_argument('name')
    export = actions.add_parser('export', help='everything as JSON (embeddings as numbers)')
    export.add_argument('--out', type=Path, default=None, help='file to write (default: stdout)')


def run(args: argparse.Namespace) -> int:
    """Run the action; 0 on success, 1 for an unknown operator, 2 for a store problem."""
    path = args.store or default_store_path()
    if not path.exists():
        print(f'mmchat operators: no enrolment store at {path} (enrol someone first)',
              file=sys.stderr)
        return 2
    try:
        with EnrolmentStore(path) as store:
            if args.action == 'list':
                operators = store.operators()
                for info in operators:
                    created = time.strftime('%Y-%m-%d %H:%M', time.localtime(info.created))
                    print(f'{info.name:24s} faces {info.faces:3d}  voices {info.voices:3d}  '
                          f'enrolled {created}')
                print(f'{len(operators)} operator(s) in {store.path}')
            elif args.action == 'delete':
                if not store.delete(args.name):
                    print(f"mmchat operators: no operator '{args.name}'", file=sys.stderr)
                    return 1
                print(f"deleted operator '{args.name}'")
            else:
                text = json.dumps(store.export(), indent=1)
                if args.out:
                    args.out.write_text(text + '\n')
                    args.out.chmod(0o600)
                    print(f'wrote {args.out}')
                else:
                    print(text)
    except StoreError as exc:
        print(f'mmchat operators: {exc}', file=sys.stderr)
        return 2
    return 0
