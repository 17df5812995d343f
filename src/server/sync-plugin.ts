/**
 * Publishes the change notifications of this replica's writes (src/domain/sync/): an Apollo plugin that, once a
 * mutation's response is ready (its transaction committed), names what changed by its root fields that returned
 * data. Uploads, activations and experiment changes are what other replicas serve from memory; interactions and
 * users are read from the database or only matter at the next poll (maturity), so they publish nothing.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { Kind } from 'graphql';
import type { ChangeFeed, ChangeKind } from '../domain/sync/change-feed.js';

const KIND_OF: Readonly<Record<string, ChangeKind>> = {
  registerPost: 'posts',
  registerPosts: 'posts',
  activateModel: 'models',
  createExperiment: 'experiments',
  startExperiment: 'experiments',
  stopExperiment: 'experiments',
};

export function syncPlugin<C extends BaseContext>(feed: ChangeFeed): ApolloServerPlugin<C> {
  return {
    requestDidStart: async () => ({
      willSendResponse: async ({ operation, response }) => {
        if (operation?.operation !== 'mutation' || response.body.kind !== 'single') return;
        const data = response.body.singleResult.data;
        if (!data) return;
        for (const selection of operation.selectionSet.selections) {
          if (selection.kind !== Kind.FIELD) continue;
          const kind = KIND_OF[selection.name.value];
          if (kind && data[selection.alias?.value ?? selection.name.value] != null) feed.publish(kind);
        }
      },
    }),
  };
}
