//! Services and bookings: the schedule of a day, booking a slot (paid by an
//! included allowance, credits, or money), cancelling inside or outside the
//! window, and marking attendance.
//!
//! A slot's places are counted in `slot_counts` and taken with a conditional
//! upsert (`... DO UPDATE SET booked = booked + 1 WHERE booked < capacity`),
//! an allowance's uses the same way in `allowance_uses`, and credits with the
//! ledger's conditional debit: concurrent bookings never overbook and never
//! overdraw, on either database. Booking times are the business's local
//! wall-clock times.

//!
//! - `services`: the bookable services and their timetables;
//! - `views`: bookings as pages and lists show them;
//! - `page`: what booking a class takes, said before the member books;
//! - `book` and `cancel`: the two writes, and marking attendance.

mod book;
mod cancel;
mod page;
mod services;
mod views;

pub use book::{book, book_as};
pub use cancel::{cancel, cancel_as, mark};
pub use page::booking_page;
pub(crate) use page::{Viewer, booking_page_for};
pub(crate) use services::local_now;
pub use services::{create_service, page_of_services, services, set_service_active};
pub use views::{
    BOOKINGS_PER_PAGE, BookingListFilter, booking, of_membership, page_of_bookings, schedule,
};
pub(crate) use views::{booking_of_member, membership_bookings, of_member, upcoming_of_member};
