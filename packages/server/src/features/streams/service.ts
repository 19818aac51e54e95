import type { Kysely } from 'kysely';
import { nowIso } from '../../db/create-db.js';
import type { Database, StreamsTable } from '../../db/tables.js';
import { NotFound } from '../../http/problem.js';
import { page } from '../../http/pagination.js';
import { newId } from '../../ids.js';
import type { FieldCipher } from '../../secrets.js';
import { assertCanAccess, isAdmin, type Principal } from '../auth/principal.js';
import * as repo from './repository.js';

export interface StreamView {
  id: string;
  owner_id: string;
  name: string;
  source_url: string;
  mount: string;
  visibility: 'public' | 'private';
  monetization_enabled: boolean;
  source_kind: 'icecast' | 'shoutcast1' | 'shoutcast2' | null;
  has_source_credentials: boolean;
  status: 'inactive' | 'starting' | 'live' | 'reconnecting' | 'offline' | 'stopped';
  playback_url: string;
  created_at: string;
  updated_at: string;
}

export interface CreateStreamInput {
  name: string;
  source_url: string;
  mount?: string;
  visibility: 'public' | 'private';
  monetization_enabled: boolean;
  source_username?: string;
  source_password?: string;
}

export type UpdateStreamInput = Partial<{
  name: string;
  visibility: 'public' | 'private';
  monetization_enabled: boolean;
  source_username: string | null;
  source_password: string | null;
}>;

export class StreamsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly cipher: FieldCipher,
    private readonly publicUrl: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async create(principal: Principal, input: CreateStreamInput): Promise<StreamView> {
    const now = nowIso(this.clock());
    const url = new URL(input.source_url);
    const row: StreamsTable = {
      id: newId('str'),
      owner_id: principal.userId,
      name: input.name,
      source_url: url.toString(),
      mount: input.mount ?? (url.pathname || '/'),
      visibility: input.visibility,
      monetization_enabled: input.monetization_enabled ? 1 : 0,
      source_kind: null,
      source_username: input.source_username ?? null,
      source_password_enc: input.source_password ? this.cipher.encrypt(input.source_password) : null,
      status: 'inactive',
      created_at: now,
      updated_at: now,
    };
    await repo.insertStream(this.db, row);
    return this.view(row);
  }

  async list(principal: Principal, opts: { limit: number; starting_after?: string; owner_id?: string }) {
    // Admins see every DJ's streams (optionally one owner's); everyone else their own.
    const ownerId = isAdmin(principal) ? opts.owner_id : principal.userId;
    const rows = await repo.listStreams(this.db, { ownerId, startingAfter: opts.starting_after, limit: opts.limit });
    const result = page(rows, opts.limit);
    return { ...result, data: result.data.map((r) => this.view(r)) };
  }

  /** The row, after checking the caller may touch it. */
  async getOwned(principal: Principal, id: string): Promise<StreamsTable> {
    const row = await repo.findStream(this.db, id);
    if (!row) throw new NotFound('Stream', id);
    assertCanAccess(principal, row.owner_id, 'stream');
    return row;
  }

  async get(principal: Principal, id: string): Promise<StreamView> {
    return this.view(await this.getOwned(principal, id));
  }

  async update(principal: Principal, id: string, input: UpdateStreamInput): Promise<StreamView> {
    const row = await this.getOwned(principal, id);
    const patch: Partial<StreamsTable> = { updated_at: nowIso(this.clock()) };
    if (input.name !== undefined) patch.name = input.name;
    if (input.visibility !== undefined) patch.visibility = input.visibility;
    if (input.monetization_enabled !== undefined) patch.monetization_enabled = input.monetization_enabled ? 1 : 0;
    if (input.source_username !== undefined) patch.source_username = input.source_username;
    if (input.source_password !== undefined) {
      patch.source_password_enc = input.source_password === null ? null : this.cipher.encrypt(input.source_password);
    }
    await repo.updateStream(this.db, id, patch);
    return this.view({ ...row, ...patch });
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.getOwned(principal, id);
    await repo.deleteStream(this.db, id);
  }

  view(row: StreamsTable): StreamView {
    return {
      id: row.id,
      owner_id: row.owner_id,
      name: row.name,
      source_url: row.source_url,
      mount: row.mount,
      visibility: row.visibility,
      monetization_enabled: row.monetization_enabled === 1,
      source_kind: row.source_kind as StreamView['source_kind'],
      has_source_credentials: row.source_password_enc !== null || row.source_username !== null,
      status: row.status as StreamView['status'],
      playback_url: `${this.publicUrl}/streams/${row.id}/live.m3u8`,
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }
}
