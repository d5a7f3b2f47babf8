//! The plant's bevy World with, per kind of component the engine looks up, where each entity's
//! component sits, so that an event reaches a machine or a buffer in a few instructions: a bounds
//! check, a compare of the entity and a load. Through a cached `QueryState` a lookup cost about 45
//! instructions (the entity's location, the archetype match, the table's column, the change
//! ticks), and `World::get_mut` about 150 (counted with callgrind over a million lookups); an
//! event makes several, so they were about a fifth of the engine's instructions per event (1,245
//! -> 1,017 on the reference line with the slots).
//!
//! The World is only ever built whole: everything is spawned first, then wrapped here, and nothing
//! spawns, inserts or removes afterwards (parts are plain data in queue entries). Components in
//! bevy's tables move only when their table changes shape (an entity spawned into it, moved out
//! of it, or removed), so the addresses taken at the wrap stay valid for the World's whole life.
//! The World is never handed out mutably, so no one can change that behind their back.
//!
//! Change detection is not kept for lookups (no system reads it: the engine is the only writer).

use bevy_ecs::component::{Component, Mutable};
use bevy_ecs::prelude::{Entity, World};
use std::ptr::NonNull;

use crate::components::{BufferQueue, CrewState, Machine, OrderState, Source};

/// The World of one replication, with where each looked-up component sits.
pub(crate) struct PlantWorld {
    world: World,
    places: Places,
}

// SAFETY: the pointers in `places` point into `world`, which `PlantWorld` owns and which is
// `Send + Sync`; they are dereferenced only through `&self` (shared) and `&mut self` (exclusive),
// so `PlantWorld` shares and sends exactly as the World does.
unsafe impl Send for PlantWorld {}
unsafe impl Sync for PlantWorld {}

/// Where each entity's component of one kind sits, by entity index. An index without one holds
/// [`Entity::PLACEHOLDER`] beside a dangling pointer never read: no spawned entity equals it, and
/// the placeholder's own index is the largest there is, never a slot's.
pub(crate) struct Place<T> {
    slots: Vec<(Entity, NonNull<T>)>,
}

impl<T: Component<Mutability = Mutable>> Place<T> {
    fn of(world: &mut World) -> Place<T> {
        let mut slots = Vec::new();
        let mut query = world.query::<(Entity, &mut T)>();
        for (entity, component) in query.iter_mut(world) {
            let index = entity.index_u32() as usize;
            if slots.len() <= index {
                slots.resize(index + 1, (Entity::PLACEHOLDER, NonNull::dangling()));
            }
            slots[index] = (entity, NonNull::from(component.into_inner()));
        }
        Place { slots }
    }

    #[inline(always)]
    fn find(&self, e: Entity) -> NonNull<T> {
        match self.slots.get(e.index_u32() as usize) {
            Some(&(entity, place)) if entity == e => place,
            _ => missing::<T>(e),
        }
    }
}

/// The places, one per component the engine looks up.
pub(crate) struct Places {
    machines: Place<Machine>,
    buffers: Place<BufferQueue>,
    crews: Place<CrewState>,
    orders: Place<OrderState>,
    sources: Place<Source>,
}

/// A component the engine looks up by entity.
pub(crate) trait Looked: Component<Mutability = Mutable> + Sized {
    fn place(places: &Places) -> &Place<Self>;
}

macro_rules! looked {
    ($($component:ty => $field:ident),* $(,)?) => {
        $(impl Looked for $component {
            #[inline]
            fn place(places: &Places) -> &Place<Self> {
                &places.$field
            }
        })*
    };
}

looked!(
    Machine => machines,
    BufferQueue => buffers,
    CrewState => crews,
    OrderState => orders,
    Source => sources,
);

impl PlantWorld {
    /// Wraps a World whose entities are all spawned.
    pub(crate) fn new(mut world: World) -> PlantWorld {
        let places = Places {
            machines: Place::of(&mut world),
            buffers: Place::of(&mut world),
            crews: Place::of(&mut world),
            orders: Place::of(&mut world),
            sources: Place::of(&mut world),
        };
        PlantWorld { world, places }
    }

    pub(crate) fn world(&self) -> &World {
        &self.world
    }

    /// The component of an engine-made entity; its absence is a bug.
    #[inline(always)]
    pub(crate) fn get<T: Looked>(&self, e: Entity) -> &T {
        let place = T::place(&self.places).find(e);
        // SAFETY: the place was taken from this World's storage in `new`, and nothing has changed
        // the shape of its tables since (module docs), so it still holds this entity's component;
        // `&self` excludes any `&mut` to it for the returned lifetime.
        unsafe { place.as_ref() }
    }

    /// The component of an engine-made entity, to change; its absence is a bug.
    #[inline(always)]
    pub(crate) fn get_mut<T: Looked>(&mut self, e: Entity) -> &mut T {
        let mut place = T::place(&self.places).find(e);
        // SAFETY: as in `get`; `&mut self` is exclusive access to the whole World, so no other
        // reference to this component lives while the returned one does.
        unsafe { place.as_mut() }
    }

    /// Asks the processor to bring the first `lines` cache lines of an entity's component into
    /// its cache, without waiting for them: for the event after the one being handled, whose
    /// machine in a plant of a thousand stations is no longer in the first-level cache. Nothing is
    /// read, so an entity without the component is simply skipped.
    #[inline(always)]
    pub(crate) fn prefetch<T: Looked>(&self, e: Entity, lines: usize) {
        debug_assert!(lines * 64 <= std::mem::size_of::<T>().next_multiple_of(64));
        #[cfg(target_arch = "x86_64")]
        if let Some(&(entity, place)) = T::place(&self.places).slots.get(e.index_u32() as usize)
            && entity == e
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let base = place.as_ptr().cast::<i8>();
            for line in 0..lines {
                // SAFETY: a prefetch is a hint that reads nothing and cannot fault, whatever the
                // address (these are inside the component); SSE, which it needs, is part of
                // every x86-64 processor.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(base.wrapping_add(64 * line)) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (e, lines);
    }
}

/// An engine-made entity without a component it always has: a bug, reported out of the hot path.
#[cold]
#[inline(never)]
fn missing<T>(e: Entity) -> ! {
    panic!(
        "engine invariant: {e:?} lacks {}",
        std::any::type_name::<T>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::Source;

    fn source(arrivals: u64) -> Source {
        Source {
            interarrival: crate::rng::stream(1, &["a"]),
            mix: crate::rng::stream(1, &["b"]),
            arrivals,
        }
    }

    #[test]
    fn lookups_find_and_change_the_components_of_each_entity() {
        let mut world = World::new();
        let a = world.spawn(source(1)).id();
        let b = world.spawn(source(2)).id();
        let mut plant = PlantWorld::new(world);
        plant.get_mut::<Source>(b).arrivals += 10;
        assert_eq!(plant.get::<Source>(a).arrivals, 1);
        assert_eq!(plant.get::<Source>(b).arrivals, 12);
        assert_eq!(plant.world().get::<Source>(b).map(|s| s.arrivals), Some(12));
    }

    #[test]
    fn places_hold_when_the_plant_moves_to_another_thread() {
        let mut world = World::new();
        let ids: Vec<Entity> = (0..100).map(|i| world.spawn(source(i)).id()).collect();
        let plant = PlantWorld::new(world);
        let mut moved = Box::new(plant);
        let handle = std::thread::spawn(move || {
            for &id in &ids {
                moved.get_mut::<Source>(id).arrivals *= 2;
            }
            (0..100)
                .map(|i| moved.get::<Source>(ids[i]).arrivals)
                .sum::<u64>()
        });
        assert_eq!(handle.join().ok(), Some(2 * (0..100).sum::<u64>()));
    }

    #[test]
    #[should_panic(expected = "lacks")]
    fn an_entity_of_another_generation_is_not_taken_for_this_one() {
        let mut world = World::new();
        let here = world.spawn(source(3)).id();
        let plant = PlantWorld::new(world);
        // The same index, a later generation: what a despawned and reused entity would be.
        let later =
            Entity::from_index_and_generation(here.index(), here.generation().after_versions(1));
        assert_eq!(plant.get::<Source>(here).arrivals, 3);
        let _ = plant.get::<Source>(later);
    }

    #[test]
    #[should_panic(expected = "lacks")]
    fn a_missing_component_is_reported_as_the_bug_it_is() {
        let mut world = World::new();
        let a = world.spawn(source(1)).id();
        let plant = PlantWorld::new(world);
        let _ = plant.get::<Machine>(a);
    }
}
